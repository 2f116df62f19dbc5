"""The feature visualization assignment's table: honest mistakes, correct alternatives and forged probes.

Never shipped (a mistake is one edit from the solution). ``tests/assignments/test_mistakes.py`` grades each
mistake in place of its function's cell (it must lose points of that function, publicly when ``public``, with a
message containing ``words``), each alternative (full marks), and ``tests/hostile/test_forged_probes.py`` each
forgery beside its baseline. Each source is a whole cell, imports and definition, as a student would write it:
``_cell`` edits a written-out correct cell (``CELLS``) the way the mistake does.
"""

from vizgen.author import Alternative, Forgery, Mistake

IMPORTS = "import math\nimport sys\n\nimport torch\nimport torch.nn.functional as F\nfrom torch import nn\n\n\n"

CELLS = {
    "filter_grid": '''def filter_grid(weights, padding=1):
    K, C, h, w = weights.shape
    cols = math.ceil(math.sqrt(K))
    rows = math.ceil(K / cols)
    flat = weights.detach().float().flatten(1)
    lo, hi = flat.amin(dim=1), flat.amax(dim=1)
    scaled = (flat - lo[:, None]) / (hi - lo).clamp_min(1e-12)[:, None]
    scaled = scaled.view(K, 3, h, w).permute(0, 2, 3, 1)
    grid = torch.zeros(rows * (h + padding) - padding, cols * (w + padding) - padding, 3, device=weights.device)
    for k in range(K):
        top, left = (k // cols) * (h + padding), (k % cols) * (w + padding)
        grid[top:top + h, left:left + w] = scaled[k]
    return grid
''',
    "extract_features": '''def extract_features(model, X):
    last = [m for m in model.modules() if isinstance(m, nn.Linear)][-1]
    captured = []
    handle = last.register_forward_pre_hook(lambda module, inputs: captured.append(inputs[0].detach()))
    try:
        with torch.no_grad():
            model(X)
    finally:
        handle.remove()
    return captured[-1].flatten(1).float()
''',
    "nearest_neighbors": '''def nearest_neighbors(query, database, k):
    q, d = query.double(), database.double()
    dist = (q * q).sum(1, keepdim=True) - 2 * q @ d.T + (d * d).sum(1)
    return dist.argsort(dim=1, stable=True)[:, :k]
''',
    "pca": '''def pca(features, k):
    centred = features - features.mean(dim=0)
    U, S, Vh = torch.linalg.svd(centred, full_matrices=False)
    components = Vh[:k]
    return centred @ components.T, components
''',
    "get_activations": '''def get_activations(model, X, layer):
    captured = []
    module = model.get_submodule(layer)
    handle = module.register_forward_hook(lambda m, inputs, output: captured.append(output.detach().clone()))
    try:
        with torch.no_grad():
            model(X)
    finally:
        handle.remove()
    return captured[-1].float()
''',
    "receptive_field": '''def receptive_field(layers):
    def first(value):
        return value[0] if isinstance(value, (tuple, list)) else value

    size, stride, offset = 1, 1, 0
    for layer in layers:
        if not isinstance(layer, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            continue
        kernel, step = first(layer.kernel_size), first(layer.stride)
        padding, dilation = first(layer.padding), first(getattr(layer, "dilation", 1))
        span = dilation * (kernel - 1) + 1
        size += (span - 1) * stride
        offset -= padding * stride
        stride *= step
    return size, stride, offset
''',
    "max_activating_patches": '''def max_activating_patches(model, images, layer, channel, k, field):
    size, stride, offset = field
    acts = []
    handle = model.get_submodule(layer).register_forward_hook(
        lambda m, inputs, output: acts.append(output.detach()[:, channel].clone()))
    try:
        with torch.no_grad():
            model(images)
    finally:
        handle.remove()
    act = acts[-1]
    values, flat = act.flatten().topk(k)
    n, rest = flat // act[0].numel(), flat % act[0].numel()
    locations = torch.stack([n, rest // act.shape[2], rest % act.shape[2]], dim=1)
    margin = max(0, -offset) + size
    padded = F.pad(images.detach(), (margin,) * 4)
    patches = [padded[b, :, margin + offset + i * stride: margin + offset + i * stride + size,
                      margin + offset + j * stride: margin + offset + j * stride + size]
               for b, i, j in locations.tolist()]
    return torch.stack(patches).float(), locations
''',
    "guided_backprop_neuron": '''def guided_backprop_neuron(model, X, layer, channel):
    def keep_positive_grad(module, inputs, output):
        if output.requires_grad:
            output.register_hook(lambda grad: grad.clamp(min=0))

    def keep_output(module, inputs, output):
        kept.append(output)
        return output.clone()

    kept = []
    activations = [m for m in model.modules() if isinstance(m, (nn.ReLU, nn.ReLU6))]
    handles = [m.register_forward_hook(keep_positive_grad) for m in activations]
    handles.append(model.get_submodule(layer).register_forward_hook(keep_output))
    try:
        X = X.detach().clone().requires_grad_(True)
        model(X)
        maps = kept[-1][:, channel]
        neurons = maps.flatten(1).max(dim=1).values
        (grad,) = torch.autograd.grad(neurons.sum(), X)
    finally:
        for handle in handles:
            handle.remove()
    return grad.detach().float()
''',
    "deepdream_step": '''def deepdream_step(img, model, layer, learning_rate):
    kept = []

    def keep_output(module, inputs, output):
        kept.append(output)
        return output.clone()

    handle = model.get_submodule(layer).register_forward_hook(keep_output)
    try:
        x = img.detach().clone().requires_grad_(True)
        model(x)
        loss = 0.5 * kept[-1].pow(2).sum()
        (g,) = torch.autograd.grad(loss, x)
    finally:
        handle.remove()
    return (img.detach() + learning_rate * g / (g.abs().mean() + 1e-8)).float()
''',
}


def _cell(function: str, *edits: tuple[str, str]) -> str:
    """The correct cell of ``function`` with each (old, new) edit made (each ``old`` must occur once)."""
    source = CELLS[function]
    for old, new in edits:
        assert source.count(old) == 1, (function, old)
        source = source.replace(old, new)
    return IMPORTS + source


def _mistake(name: str, function: str, words: str, *edits: tuple[str, str], public: bool = True,
             named: bool = True) -> Mistake:
    return Mistake(name, function, _cell(function, *edits), words, public, named=named)


DIFFERS = "differs from the expected"  # what an un-named wrong answer is told (and no "likely bug")
LIBRARY = "earns nothing"  # what a forbidden library call is told (assignment.toml's [forbidden])
EXTRACTOR = IMPORTS + "from torchvision.models.feature_extraction import create_feature_extractor\n\n\n"


PAIR_LOOP = ("dist = (q * q).sum(1, keepdim=True) - 2 * q @ d.T + (d * d).sum(1)",
             "dist = torch.stack([torch.stack([(a - b).pow(2).sum() for b in d]) for a in q])")
NO_STRIDE_SCALING = ("size += (span - 1) * stride", "size += span - 1")

MISTAKES = [
    # filter_grid
    _mistake("one-range", "filter_grid", "one min and max",
             ("lo, hi = flat.amin(dim=1), flat.amax(dim=1)", "lo, hi = flat.min().expand(K), flat.max().expand(K)")),
    _mistake("per-channel", "filter_grid", "each colour channel",
             (("lo, hi = flat.amin(dim=1), flat.amax(dim=1)\n"
               "    scaled = (flat - lo[:, None]) / (hi - lo).clamp_min(1e-12)[:, None]"),
              ("per = flat.view(K, 3, -1)\n    lo, hi = per.amin(dim=2, keepdim=True), per.amax(dim=2, keepdim=True)\n"
               "    scaled = ((per - lo) / (hi - lo).clamp_min(1e-12)).flatten(1)"))),
    _mistake("not-normalised", "filter_grid", "not normalised",
             ("scaled = (flat - lo[:, None]) / (hi - lo).clamp_min(1e-12)[:, None]", "scaled = flat")),
    _mistake("max-abs", "filter_grid", "largest absolute value",
             ("scaled = (flat - lo[:, None]) / (hi - lo).clamp_min(1e-12)[:, None]",
              "scaled = flat / flat.abs().amax(dim=1, keepdim=True)")),
    _mistake("constant-nan", "filter_grid", "NaN exactly where a filter is constant",
             ("(hi - lo).clamp_min(1e-12)[:, None]", "(hi - lo)[:, None]")),
    _mistake("ones-background", "filter_grid", "padding and unused cells are not 0",
             ("grid = torch.zeros(", "grid = torch.ones(")),
    _mistake("rows-first", "filter_grid", "cols = ceil(sqrt(K))",
             ("cols = math.ceil(math.sqrt(K))\n    rows = math.ceil(K / cols)",
              "rows = math.ceil(math.sqrt(K))\n    cols = math.ceil(K / rows)")),
    _mistake("scaled-to-255", "filter_grid", DIFFERS, ("grid[top:top + h, left:left + w] = scaled[k]",
                                                       "grid[top:top + h, left:left + w] = 255 * scaled[k]"),
             named=False),
    Mistake("make-grid", "filter_grid", IMPORTS + '''from torchvision.utils import make_grid


def filter_grid(weights, padding=1):
    cols = math.ceil(math.sqrt(len(weights)))
    grid = make_grid(weights.detach().float(), nrow=cols, padding=padding, normalize=True, scale_each=True)
    return grid[:, padding:grid.shape[1] - padding, padding:grid.shape[2] - padding].permute(1, 2, 0).contiguous()
''', LIBRARY),
    # extract_features
    _mistake("logits", "extract_features", "returned the logits",
             ("return captured[-1].flatten(1).float()", "return model(X).float()")),
    _mistake("features-no-finally", "extract_features", "left 1 hook(s)",
             ("    try:\n        with torch.no_grad():\n            model(X)\n    finally:\n        handle.remove()",
              "    with torch.no_grad():\n        model(X)\n    handle.remove()")),
    _mistake("features-hook-left", "extract_features", "hook(s) registered on the model",
             ("        handle.remove()", "        pass")),
    _mistake("train-mode", "extract_features", "training mode",
             ("    try:\n        with torch.no_grad():", "    model.train()\n    try:\n        with torch.no_grad():")),
    _mistake("first-linear", "extract_features", "FIRST nn.Linear",
             ("last = [m for m in model.modules() if isinstance(m, nn.Linear)][-1]",
              "last = next(m for m in model.modules() if isinstance(m, nn.Linear))")),
    _mistake("l2-normalised", "extract_features", DIFFERS,
             ("return captured[-1].flatten(1).float()", "return F.normalize(captured[-1].flatten(1).float(), dim=1)"),
             named=False),
    Mistake("feature-extractor", "extract_features", EXTRACTOR + '''def extract_features(model, X):
    with torch.no_grad():
        return create_feature_extractor(model, {"flatten": "features"})(X)["features"].float()
''', LIBRARY),
    # nearest_neighbors
    _mistake("farthest", "nearest_neighbors", "farthest rows first",
             ("dist.argsort(dim=1, stable=True)", "dist.argsort(dim=1, descending=True)")),
    _mistake("pair-loop", "nearest_neighbors", "torch calls", PAIR_LOOP),
    _mistake("distances", "nearest_neighbors", "not their indices",
             ("return dist.argsort(dim=1, stable=True)[:, :k]", "return dist.sort(dim=1).values[:, :k]")),
    _mistake("skips-nearest", "nearest_neighbors", "nearest row was skipped",
             ("[:, :k]", "[:, 1:k + 1]")),
    _mistake("manhattan", "nearest_neighbors", DIFFERS,
             ("dist = (q * q).sum(1, keepdim=True) - 2 * q @ d.T + (d * d).sum(1)",
              "dist = (q[:, None, :] - d[None, :, :]).abs().sum(-1)"), named=False),
    Mistake("sklearn-neighbors", "nearest_neighbors", IMPORTS + '''from sklearn.neighbors import NearestNeighbors


def nearest_neighbors(query, database, k):
    index = NearestNeighbors(n_neighbors=k).fit(database.double().numpy())
    return torch.from_numpy(index.kneighbors(query.double().numpy(), return_distance=False)).long()
''', LIBRARY),
    # pca
    _mistake("uncentred", "pca", "uncentred", ("centred = features - features.mean(dim=0)", "centred = features")),
    _mistake("columns", "pca", "one component per ROW",
             ("components = Vh[:k]\n    return centred @ components.T",
              "components = Vh[:k].T\n    return centred @ components")),
    _mistake("scaled-by-s", "pca", "not orthonormal", ("components = Vh[:k]", "components = S[:k, None] * Vh[:k]")),
    _mistake("smallest-variance", "pca", "SMALLEST variance", ("components = Vh[:k]", "components = Vh[-k:].flip(0)")),
    _mistake("projected-uncentred", "pca", "subtract the mean first",
             ("return centred @ components.T", "return features @ components.T")),
    _mistake("centred-in-place", "pca", "modified its input features in place",
             ("centred = features - features.mean(dim=0)", "centred = features.sub_(features.mean(dim=0))")),
    _mistake("float32", "pca", "keep features' dtype",
             ("return centred @ components.T, components",
              "return (centred @ components.T).float(), components.float()")),
    _mistake("standardised", "pca", DIFFERS, ("centred = features - features.mean(dim=0)",
                                              "centred = (features - features.mean(dim=0)) / features.std(dim=0)"),
             named=False),
    Mistake("pca-lowrank", "pca", IMPORTS + '''def pca(features, k):
    _, _, V = torch.pca_lowrank(features, q=k, center=True, niter=10)
    return (features - features.mean(dim=0)) @ V, V.T
''', LIBRARY),
    # get_activations
    _mistake("activations-no-clone", "get_activations", "overwritten by the in-place ReLU6",
             ("captured.append(output.detach().clone())", "captured.append(output.detach())")),
    _mistake("activations-no-finally", "get_activations", "left 1 hook(s)",
             ("    try:\n        with torch.no_grad():\n            model(X)\n    finally:\n        handle.remove()",
              "    with torch.no_grad():\n        model(X)\n    handle.remove()")),
    _mistake("layer-input", "get_activations", "model.get_submodule(layer)",
             ("module.register_forward_hook(lambda m, inputs, output: captured.append(output.detach().clone()))",
              "module.register_forward_hook(lambda m, inputs, output: captured.append(inputs[0].detach().clone()))")),
    _mistake("activations-hook-left", "get_activations", "hook(s) registered on the model",
             ("        handle.remove()", "        pass")),
    _mistake("activations-rescaled", "get_activations", DIFFERS,
             ("return captured[-1].float()", "return (captured[-1] / captured[-1].abs().max()).float()"), named=False),
    Mistake("activations-extractor", "get_activations", EXTRACTOR + '''def get_activations(model, X, layer):
    with torch.no_grad():
        return create_feature_extractor(model, {layer: "out"})(X)["out"].float()
''', LIBRARY),
    # receptive_field
    _mistake("no-stride-scaling", "receptive_field", "without scaling it by the stride", NO_STRIDE_SCALING),
    _mistake("no-padding", "receptive_field", "offset ignores padding", ("offset -= padding * stride", "offset -= 0")),
    _mistake("no-dilation", "receptive_field", "ignores dilation",
             ("span = dilation * (kernel - 1) + 1", "span = kernel")),
    _mistake("padding-unscaled", "receptive_field", "each padding shifts the field by padding *",
             ("offset -= padding * stride", "offset -= padding")),
    _mistake("stride-first", "receptive_field", "size += (dilation * (kernel - 1)) * stride",
             ("        size += (span - 1) * stride\n        offset -= padding * stride\n        stride *= step",
              "        stride *= step\n        size += (span - 1) * stride\n        offset -= padding * stride")),
    _mistake("own-stride-padding", "receptive_field", "compute per layer",
             ("offset -= padding * stride", "offset -= padding * step"), named=False),
    # max_activating_patches
    _mistake("border-not-zero", "max_activating_patches", "border",
             ("F.pad(images.detach(), (margin,) * 4)", "F.pad(images.detach(), (margin,) * 4, value=-1.0)")),
    _mistake("smallest-first", "max_activating_patches", "not largest first",
             ("values, flat = act.flatten().topk(k)", "values, flat = act.flatten().topk(k)\n    flat = flat.flip(0)")),
    _mistake("no-offset", "max_activating_patches", "add the field's offset",
             ("margin = max(0, -offset) + size", "offset = 0\n    margin = max(0, -offset) + size")),
    _mistake("no-stride", "max_activating_patches", "multiply the unit's position by the field's stride",
             ("margin = max(0, -offset) + size", "stride = 1\n    margin = max(0, -offset) + size")),
    _mistake("centred-crop", "max_activating_patches", DIFFERS,
             ("margin = max(0, -offset) + size", "offset = offset + stride // 2\n    margin = max(0, -offset) + size"),
             named=False),
    # guided_backprop_neuron
    _mistake("plain-gradient", "guided_backprop_neuron", "plain gradient",
             ("output.register_hook(lambda grad: grad.clamp(min=0))", "pass")),
    _mistake("guided-no-finally", "guided_backprop_neuron", "left",
             ("    finally:\n        for handle in handles:\n            handle.remove()",
              "    except Exception:\n        raise\n    for handle in handles:\n        handle.remove()")),
    _mistake("guided-no-clone", "guided_backprop_neuron", "overwritten its output",
             ("        return output.clone()", "        return None")),
    _mistake("channel-sum", "guided_backprop_neuron", "the whole channel was backpropagated",
             ("(grad,) = torch.autograd.grad(neurons.sum(), X)", "(grad,) = torch.autograd.grad(maps.sum(), X)")),
    _mistake("params-require-grad", "guided_backprop_neuron", "changed requires_grad",
             ("    kept = []\n", "    kept = []\n    model.requires_grad_(True)\n")),
    _mistake("relu-only", "guided_backprop_neuron", "nn.ReLU6 is no subclass of nn.ReLU",
             ("isinstance(m, (nn.ReLU, nn.ReLU6))", "isinstance(m, nn.ReLU)")),
    _mistake("display-normalised", "guided_backprop_neuron", DIFFERS,
             ("return grad.detach().float()", "return (grad / grad.abs().max()).detach().float()"), named=False),
    # deepdream_step
    _mistake("descends", "deepdream_step", "descends",
             ("return (img.detach() + learning_rate", "return (img.detach() - learning_rate")),
    _mistake("max-normalised", "deepdream_step", "largest absolute value",
             ("g / (g.abs().mean() + 1e-8)", "g / (g.abs().max() + 1e-8)")),
    _mistake("in-place", "deepdream_step", "modified its input img in place",
             ("    return (img.detach() + learning_rate * g / (g.abs().mean() + 1e-8)).float()",
              "    img.data += learning_rate * g / (g.abs().mean() + 1e-8)\n    return img.detach().clone()")),
    _mistake("sum-objective", "deepdream_step", "sum of the activations",
             ("loss = 0.5 * kept[-1].pow(2).sum()", "loss = kept[-1].sum()")),
    _mistake("l2-normalised", "deepdream_step", "L2 norm", ("g / (g.abs().mean() + 1e-8)", "g / (g.norm() + 1e-8)")),
    _mistake("unnormalised", "deepdream_step", "not normalised", ("g / (g.abs().mean() + 1e-8)", "g")),
    _mistake("std-normalised", "deepdream_step", DIFFERS, ("g / (g.abs().mean() + 1e-8)", "g / (g.std() + 1e-8)"),
             named=False),
]

# Mistakes whose failed checks show the student's picture (filter_grid's grid and deepdream_step's image).
SHOWN = ("not-normalised", "descends")

ALTERNATIVES = [
    Alternative("loop-per-filter", "filter_grid", IMPORTS + '''def filter_grid(weights, padding=1):
    K, _, h, w = weights.shape
    cols = int(math.ceil(K ** 0.5))
    rows = (K + cols - 1) // cols
    grid = weights.new_zeros(rows * (h + padding) - padding, cols * (w + padding) - padding, 3, dtype=torch.float32)
    for k, f in enumerate(weights.detach().float()):
        span = f.max() - f.min()
        f = (f - f.min()) / span if span > 0 else torch.zeros_like(f)
        r, c = divmod(k, cols)
        grid[r * (h + padding): r * (h + padding) + h, c * (w + padding): c * (w + padding) + w] = f.permute(1, 2, 0)
    return grid
'''),
    Alternative("forward-hook-on-input", "extract_features", IMPORTS + '''def extract_features(model, X):
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    seen = {}
    handle = linears[-1].register_forward_hook(lambda m, inputs, output: seen.update(x=inputs[0]))
    try:
        with torch.no_grad():
            model(X)
    finally:
        handle.remove()
    return seen["x"].reshape(len(X), -1).detach().float()
'''),
    Alternative("cdist-topk", "nearest_neighbors", IMPORTS + '''def nearest_neighbors(query, database, k):
    dist = torch.cdist(query.double(), database.double())
    return dist.topk(k, dim=1, largest=False).indices
'''),
    Alternative("covariance-eigh", "pca", IMPORTS + '''def pca(features, k):
    mean = features.mean(dim=0, keepdim=True)
    centred = features - mean
    cov = centred.T @ centred / (len(features) - 1)
    values, vectors = torch.linalg.eigh(cov)
    components = vectors[:, values.argsort(descending=True)[:k]].T.contiguous()
    return centred @ components.T, components
'''),
    Alternative("stop-early", "get_activations", IMPORTS + '''class _Stop(Exception):
    pass


def get_activations(model, X, layer):
    kept = []

    def hook(module, inputs, output):
        kept.append(output.detach().clone())
        raise _Stop()

    handle = model.get_submodule(layer).register_forward_hook(hook)
    try:
        with torch.no_grad():
            model(X)
    except _Stop:
        pass
    finally:
        handle.remove()
    return kept[0].float()
'''),
    Alternative("backward-recursion", "receptive_field", IMPORTS + '''def receptive_field(layers):
    geometric = [m for m in layers if isinstance(m, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d))]
    one = lambda v: v[0] if isinstance(v, (tuple, list)) else v
    size, start = 1, 0
    for m in reversed(geometric):  # from the top unit down to the input
        k, s, p, d = one(m.kernel_size), one(m.stride), one(m.padding), one(getattr(m, "dilation", 1))
        size = s * size + (d * (k - 1) + 1 - s)
        start = s * start - p
    stride = math.prod(one(m.stride) for m in geometric)
    return size, stride, start
'''),
    Alternative("clipped-crops", "max_activating_patches",
                IMPORTS + '''def max_activating_patches(model, images, layer, channel, k, field):
    size, stride, offset = field
    out = []
    handle = model.get_submodule(layer).register_forward_hook(lambda m, i, o: out.append(o.detach().clone()))
    try:
        with torch.no_grad():
            model(images)
    finally:
        handle.remove()
    act = out[0][:, channel]
    N, H, W = act.shape
    order = act.reshape(-1).argsort(descending=True)[:k]
    locations = torch.stack([order // (H * W), order % (H * W) // W, order % W], dim=1)
    patches = torch.zeros(k, images.shape[1], size, size)
    for r, (n, i, j) in enumerate(locations.tolist()):
        y0, x0 = offset + i * stride, offset + j * stride
        ys, xs = max(y0, 0), max(x0, 0)
        ye, xe = min(y0 + size, images.shape[2]), min(x0 + size, images.shape[3])
        if ys < ye and xs < xe:
            patches[r, :, ys - y0: ye - y0, xs - x0: xe - x0] = images[n, :, ys:ye, xs:xe]
    return patches, locations
'''),
    Alternative("one-hot-backward", "guided_backprop_neuron", _cell(
        "guided_backprop_neuron",
        ("        neurons = maps.flatten(1).max(dim=1).values\n        (grad,) = torch.autograd.grad(neurons.sum(), X)",
         ("        flat = maps.flatten(1)\n        seed = torch.zeros_like(flat)\n"
          "        seed[torch.arange(len(flat)), flat.argmax(dim=1)] = 1.0\n"
          "        (grad,) = torch.autograd.grad(flat, X, grad_outputs=seed)")))),
    Alternative("backward-on-leaf", "deepdream_step", IMPORTS + '''def deepdream_step(img, model, layer, learning_rate):
    store = {}

    def hook(module, inputs, output):
        store["a"] = output
        return output.clone()

    handle = model.get_submodule(layer).register_forward_hook(hook)
    x = img.detach().clone().requires_grad_(True)
    try:
        model(x)
        (store["a"] ** 2).sum().div(2).backward(inputs=[x])
    finally:
        handle.remove()
    g = x.grad
    return (img.detach() + learning_rate * g / (g.abs().mean() + 1e-8)).float()
'''),
]

# The grader's own answers used to live in the probes module, which runs in the student's process: a student's
# receptive_field could call them. The probe module now holds none, so the forged cell falls back on its own
# (wrong) formula and scores what the baseline scores.
FORGED_FIELD = _cell("receptive_field", NO_STRIDE_SCALING, (
    "    size, stride, offset = 1, 1, 0\n",
    '''    stack = sys._getframe(1).f_locals.get("stack")  # the receptive_field_of probe's frame
    module = next((m for n, m in list(sys.modules.items()) if n.startswith("_vizgen_support_feature_visualization")),
                  None)
    answer = getattr(module, "field_by_hand", None)  # the grader's own answer, when the probe module had it
    if stack is not None and answer is not None:
        return answer(stack)
    size, stride, offset = 1, 1, 0
'''))

# The torch-call counter runs in the student's process: a loop over pairs can reset it before returning. The
# CPU time of the call, measured by the worker from the kernel's clock, still shows the loop.
FORGED_COUNT = _cell("nearest_neighbors", PAIR_LOOP, (
    "    return dist.argsort",
    '''    counter = sys._getframe(1).f_locals.get("counter")  # count_torch_calls' TorchFunctionMode
    if counter is not None:
        counter.calls = 0
    return dist.argsort'''))

FORGERIES = [
    Forgery("grader-answer-from-probe-module", "receptive_field_of", "receptive_field", FORGED_FIELD,
            _cell("receptive_field", NO_STRIDE_SCALING)),
    Forgery("reset-torch-call-counter", "count_torch_calls", "nearest_neighbors", FORGED_COUNT,
            _cell("nearest_neighbors", PAIR_LOOP)),
]
