"""The network visualization table: honest mistakes, correct alternatives and forged probes (never shipped).

Run by ``tests/assignments/test_mistakes.py`` (each mistake loses its function's points, public and hidden,
with a message containing ``words``; each alternative keeps full marks) and by
``tests/hostile/test_forged_probes.py`` (each forgery, graded beside its baseline, gains nothing).
"""

from vizgen.author import Alternative, Forgery, Mistake, wrong_answer

SALIENCY = "import torch\nimport torch.nn.functional as F\n\n\ndef compute_saliency_maps(X, y, model):\n"
MASK = ("import cv2\nimport numpy as np\nimport torch\n\n\n"
        "def saliency_to_mask(img, saliency, fg_quantile=0.95, bg_quantile=0.30, iterations=5):\n")
MASK_SEEDS = (
    "    s = saliency.detach().cpu().numpy() if torch.is_tensor(saliency) else np.asarray(saliency)\n"
    "    mask = np.full(s.shape, cv2.GC_PR_BGD, dtype=np.uint8)\n"
)
GRABCUT = (
    "    cv2.setRNGSeed(0)\n"
    "    cv2.grabCut(np.ascontiguousarray(img), mask, None, np.zeros((1, 65)), np.zeros((1, 65)), iterations,\n"
    "                cv2.GC_INIT_WITH_MASK)\n"
)
OCCLUSION = ("import torch\n\n\n"
             "def occlusion_map(X, y, model, patch_size=32, stride=16, fill=0.0, batch_size=64):\n")
OCCLUSION_JOBS = (
    "    N, _, H, W = X.shape\n"
    "    rows, cols = (H - patch_size) // stride + 1, (W - patch_size) // stride + 1\n"
    "    jobs = [(n, i, j) for n in range(N) for i in range(rows) for j in range(cols)]\n"
    "    out = []\n"
    "    with torch.no_grad():\n"
    "        for start in range(0, len(jobs), batch_size):\n"
    "            chunk = jobs[start:start + batch_size]\n"
    "            index = torch.tensor([n for n, _, _ in chunk])\n"
    "            batch = X[index].clone()\n"
)
PER_PATCH = (
    "    N, _, H, W = X.shape\n"
    "    rows, cols = (H - patch_size) // stride + 1, (W - patch_size) // stride + 1\n"
    "    out = torch.empty(N, rows, cols)\n"
    "    with torch.no_grad():\n"
    "        for n in range(N):\n"
    "            for i in range(rows):\n"
    "                for j in range(cols):\n"
    "                    Z = X[n:n + 1].clone()\n"
    "                    Z[:, :, i * stride:i * stride + patch_size, j * stride:j * stride + patch_size] = fill\n"
    "                    out[n, i, j] = model(Z).softmax(dim=1)[0, y[n]]\n"
)
GUIDED = "import torch\nfrom torch import nn\n\n\ndef guided_backprop(X, y, model):\n"
HOOK = (
    "    def clamp(module, inputs, output):\n"
    "        output.register_hook(lambda grad: grad.clamp(min=0))\n"
)
FOOLING = "import torch\n\n\ndef make_fooling_image(X, target_y, model, max_iter=100, lr=1.0):\n"
CLASSVIS = "import torch\n\n\ndef class_visualization_update_step(img, model, target_y, l2_reg, learning_rate):\n"


def _occlusion(fill_line: str, record: str) -> str:
    """A batched occlusion_map whose patch and recorded value are the given lines (one mistake each)."""
    return OCCLUSION + OCCLUSION_JOBS + (
        "            for b, (_, i, j) in enumerate(chunk):\n"
        f"                {fill_line}\n"
        "            scores = model(batch)\n"
        f"            {record}\n"
        "    return torch.cat(out).view(N, rows, cols).float()\n")


CORRECT_PATCH = "batch[b, :, i * stride:i * stride + patch_size, j * stride:j * stride + patch_size] = fill"
CORRECT_RECORD = "out.append(scores.softmax(dim=1)[torch.arange(len(chunk)), y[index]])"

MISTAKES = [
    # compute_saliency_maps
    Mistake("saliency-forgot-abs", "compute_saliency_maps", SALIENCY + (
        "    X = X.detach().clone().requires_grad_()\n"
        "    model(X).gather(1, y.view(-1, 1)).sum().backward()\n"
        "    return X.grad.amax(dim=1)\n"), "take |gradient| before the max"),
    Mistake("saliency-softmax-gradient", "compute_saliency_maps", SALIENCY + (
        "    X = X.detach().clone().requires_grad_()\n"
        "    probs = model(X).softmax(dim=1)  # probabilities are easier to read than scores\n"
        "    probs.gather(1, y.view(-1, 1)).sum().backward()\n"
        "    return X.grad.abs().amax(dim=1)\n"), "not the softmax probability"),
    Mistake("saliency-loss-gradient", "compute_saliency_maps", SALIENCY + (
        "    X = X.detach().clone().requires_grad_()\n"
        "    F.cross_entropy(model(X), y).backward()  # as in training\n"
        "    return X.grad.abs().amax(dim=1)\n"), "not the cross-entropy loss"),
    Mistake("saliency-sum-over-channels", "compute_saliency_maps", SALIENCY + (
        "    X = X.detach().clone().requires_grad_()\n"
        "    model(X).gather(1, y.view(-1, 1)).sum().backward()\n"
        "    return X.grad.abs().sum(dim=1)\n"), "not the sum"),
    Mistake("saliency-requires-grad-on-the-callers-input", "compute_saliency_maps", SALIENCY + (
        "    X.requires_grad_()\n"
        "    model(X).gather(1, y.view(-1, 1)).sum().backward()\n"
        "    return X.grad.abs().amax(dim=1)\n"), "changed requires_grad on its input X"),
    # saliency_to_mask
    Mistake("mask-only-definite-foreground", "saliency_to_mask", MASK + MASK_SEEDS + (
        "    mask[s >= np.quantile(s, fg_quantile)] = cv2.GC_FGD\n"
        "    mask[s <= np.quantile(s, bg_quantile)] = cv2.GC_BGD\n") + GRABCUT + (
        "    return mask == cv2.GC_FGD\n"), "keep GC_FGD and GC_PR_FGD"),
    Mistake("mask-seeds-swapped", "saliency_to_mask", MASK + MASK_SEEDS + (
        "    mask[s >= np.quantile(s, fg_quantile)] = cv2.GC_BGD\n"
        "    mask[s <= np.quantile(s, bg_quantile)] = cv2.GC_FGD\n") + GRABCUT + (
        "    return (mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)\n"), "seed GC_FGD at or above the fg_quantile"),
    Mistake("mask-returns-the-labels", "saliency_to_mask", MASK + MASK_SEEDS + (
        "    mask[s >= np.quantile(s, fg_quantile)] = cv2.GC_FGD\n"
        "    mask[s <= np.quantile(s, bg_quantile)] = cv2.GC_BGD\n") + GRABCUT + (
        "    return mask  # GrabCut's labels\n"), "compare the GrabCut labels with GC_FGD / GC_PR_FGD"),
    Mistake("mask-numpy-saliency-only", "saliency_to_mask", MASK + (
        "    s = saliency.astype(np.float64)\n"
        "    mask = np.full(s.shape, cv2.GC_PR_BGD, dtype=np.uint8)\n"
        "    mask[s >= np.quantile(s, fg_quantile)] = cv2.GC_FGD\n"
        "    mask[s <= np.quantile(s, bg_quantile)] = cv2.GC_BGD\n") + GRABCUT + (
        "    return (mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)\n"), "astype", public=False),
    # occlusion_map
    Mistake("occlusion-one-forward-per-patch", "occlusion_map", OCCLUSION + PER_PATCH + "    return out\n",
            "stack the occluded copies"),
    Mistake("occlusion-raw-scores", "occlusion_map", _occlusion(
        CORRECT_PATCH, "out.append(scores[torch.arange(len(chunk)), y[index]])"), "report softmax"),
    Mistake("occlusion-rows-and-columns-swapped", "occlusion_map", _occlusion(
        "batch[b, :, j * stride:j * stride + patch_size, i * stride:i * stride + patch_size] = fill", CORRECT_RECORD),
        "rows and columns swapped"),
    Mistake("occlusion-patch-zeroed", "occlusion_map", _occlusion(
        "batch[b, :, i * stride:i * stride + patch_size, j * stride:j * stride + patch_size] = 0", CORRECT_RECORD),
        "write `fill` into the patch, not 0"),
    Mistake("occlusion-probability-drop", "occlusion_map", _occlusion(
        CORRECT_PATCH,
        "out.append((model(X[index]).softmax(dim=1) - scores.softmax(dim=1))[torch.arange(len(chunk)), y[index]])"),
        "not its drop"),
    # guided_backprop
    Mistake("guided-plain-gradient", "guided_backprop", GUIDED + (
        "    X = X.detach().clone().requires_grad_()\n"
        "    model(X).gather(1, y.view(-1, 1)).sum().backward()\n"
        "    return X.grad\n"), "returned the plain gradient of s_y"),
    Mistake("guided-hooks-removed-without-finally", "guided_backprop", GUIDED + HOOK + (
        "    handles = [m.register_forward_hook(clamp) for m in model.modules()\n"
        "               if isinstance(m, (nn.ReLU, nn.ReLU6))]\n"
        "    X = X.detach().clone().requires_grad_()\n"
        "    model(X).gather(1, y.view(-1, 1)).sum().backward()\n"
        "    for h in handles:  # skipped when the forward raises\n"
        "        h.remove()\n"
        "    return X.grad\n"), "handle.remove() for each in `finally:`"),
    Mistake("guided-full-backward-hook-on-inplace-relu6", "guided_backprop", GUIDED + (
        "    handles = [m.register_full_backward_hook(lambda mod, gi, go: (gi[0].clamp(min=0),))\n"
        "               for m in model.modules() if isinstance(m, (nn.ReLU, nn.ReLU6))]\n"
        "    try:\n"
        "        X = X.detach().clone().requires_grad_()\n"
        "        model(X).gather(1, y.view(-1, 1)).sum().backward()\n"
        "        return X.grad\n"
        "    finally:\n"
        "        for h in handles:\n"
        "            h.remove()\n"), "which register_full_backward_hook cannot wrap"),
    Mistake("guided-relu-only", "guided_backprop", GUIDED + HOOK + (
        "    handles = [m.register_forward_hook(clamp) for m in model.modules() if isinstance(m, nn.ReLU)]\n"
        "    try:\n"
        "        X = X.detach().clone().requires_grad_()\n"
        "        model(X).gather(1, y.view(-1, 1)).sum().backward()\n"
        "    finally:\n"
        "        for h in handles:\n"
        "            h.remove()\n"
        "    return X.grad\n"), "guide every nn.ReLU6 as well as every nn.ReLU", public=False),
    Mistake("guided-deconvnet-backward-hook", "guided_backprop", GUIDED + (
        "    handles = [m.register_full_backward_hook(lambda mod, gi, go: (go[0].clamp(min=0),))\n"
        "               for m in model.modules() if isinstance(m, (nn.ReLU, nn.ReLU6))]\n"
        "    try:\n"
        "        X = X.detach().clone().requires_grad_()\n"
        "        model(X).gather(1, y.view(-1, 1)).sum().backward()\n"
        "        return X.grad\n"
        "    finally:\n"
        "        for h in handles:\n"
        "            h.remove()\n"), "clamping the incoming gradient alone is the deconvnet rule"),
    Mistake("guided-softmax-probability", "guided_backprop", GUIDED + HOOK + (
        "    handles = [m.register_forward_hook(clamp) for m in model.modules()\n"
        "               if isinstance(m, (nn.ReLU, nn.ReLU6))]\n"
        "    try:\n"
        "        X = X.detach().clone().requires_grad_()\n"
        "        model(X).softmax(dim=1).gather(1, y.view(-1, 1)).sum().backward()\n"
        "    finally:\n"
        "        for h in handles:\n"
        "            h.remove()\n"
        "    return X.grad\n"), "not the softmax probability"),
    # make_fooling_image
    Mistake("fooling-descends", "make_fooling_image", FOOLING + (
        "    X_fooling = X.clone().requires_grad_()\n"
        "    for _ in range(max_iter):\n"
        "        scores = model(X_fooling)\n"
        "        if scores.argmax(dim=1).item() == target_y:\n"
        "            break\n"
        "        scores[0, target_y].backward()\n"
        "        g = X_fooling.grad\n"
        "        with torch.no_grad():\n"
        "            X_fooling -= lr * g / g.norm()  # a gradient *descent* step, as in training\n"
        "            X_fooling.grad.zero_()\n"
        "    return X_fooling.detach()\n"), "ascend the target's score"),
    Mistake("fooling-never-stops", "make_fooling_image", FOOLING + (
        "    X_fooling = X.detach().clone()\n"
        "    for _ in range(max_iter):  # no check of the prediction: always max_iter steps\n"
        "        X_fooling.requires_grad_(True)\n"
        "        (g,) = torch.autograd.grad(model(X_fooling)[0, target_y], X_fooling)\n"
        "        with torch.no_grad():\n"
        "            X_fooling = X_fooling + lr * g / g.norm()\n"
        "    return X_fooling.detach()\n"), "check the prediction before each step"),
    Mistake("fooling-steps-on-the-callers-image", "make_fooling_image", FOOLING + (
        "    X_fooling = X.detach()  # shares X's memory: not a copy\n"
        "    for _ in range(max_iter):\n"
        "        x = X_fooling.clone().requires_grad_(True)\n"
        "        scores = model(x)\n"
        "        if scores.argmax(dim=1).item() == target_y:\n"
        "            break\n"
        "        (g,) = torch.autograd.grad(scores[0, target_y], x)\n"
        "        X_fooling += lr * g / g.norm()\n"
        "    return X_fooling.clone()\n"), "modified its input X in place"),
    # class_visualization_update_step
    Mistake("classvis-norm-not-squared", "class_visualization_update_step", CLASSVIS + (
        "    objective = model(img)[0, target_y] - l2_reg * img.norm()\n"
        "    objective.backward()\n"
        "    with torch.no_grad():\n"
        "        img += learning_rate * img.grad / img.grad.norm()\n"
        "        img.grad.zero_()\n"), "not the norm ||img||"),
    Mistake("classvis-descends", "class_visualization_update_step", CLASSVIS + (
        "    objective = model(img)[0, target_y] - l2_reg * img.pow(2).sum()\n"
        "    objective.backward()\n"
        "    with torch.no_grad():\n"
        "        img -= learning_rate * img.grad / img.grad.norm()  # as an optimizer would\n"
        "        img.grad.zero_()\n"), "this step descends"),
    Mistake("classvis-unnormalised-step", "class_visualization_update_step", CLASSVIS + (
        "    objective = model(img)[0, target_y] - l2_reg * img.pow(2).sum()\n"
        "    objective.backward()\n"
        "    with torch.no_grad():\n"
        "        img += learning_rate * img.grad\n"
        "        img.grad.zero_()\n"), "normalise the step"),
    Mistake("classvis-regulariser-added", "class_visualization_update_step", CLASSVIS + (
        "    objective = model(img)[0, target_y] + l2_reg * img.pow(2).sum()\n"
        "    objective.backward()\n"
        "    with torch.no_grad():\n"
        "        img += learning_rate * img.grad / img.grad.norm()\n"
        "        img.grad.zero_()\n"), "subtract the regulariser"),
    Mistake("classvis-rebinds-img", "class_visualization_update_step", CLASSVIS + (
        "    objective = model(img)[0, target_y] - l2_reg * img.pow(2).sum()\n"
        "    objective.backward()\n"
        "    with torch.no_grad():\n"
        "        img = img + learning_rate * img.grad / img.grad.norm()  # a new tensor; the caller's is unchanged\n"),
        "update the tensor in place"),
    # un-named wrong answers: the solution's value changed in a way no usual mistake reproduces
    Mistake("saliency-scaled", "compute_saliency_maps", wrong_answer(__file__, "compute_saliency_maps", "out * 1.37"),
            "differs from the expected", named=False),
    Mistake("mask-shifted", "saliency_to_mask", wrong_answer(__file__, "saliency_to_mask", "np.roll(out, 7, axis=-1)"),
            "overlaps", named=False),
    Mistake("occlusion-scaled", "occlusion_map", wrong_answer(__file__, "occlusion_map", "out * 1.37"),
            "differs from the expected", named=False),
    Mistake("guided-scaled", "guided_backprop", wrong_answer(__file__, "guided_backprop", "out * 1.37"),
            "differs from the expected", named=False),
    Mistake("fooling-mirrored", "make_fooling_image",
            wrong_answer(__file__, "make_fooling_image", "torch.flip(out, dims=[-1])"), "the image changed",
            named=False),
    Mistake("classvis-scaled", "class_visualization_update_step",
            wrong_answer(__file__, "class_visualization_update_step", "(img.data.mul_(1.37), out)[1]"),
            "differs from the expected", named=False),
]

# Mistakes whose failed checks show the student's picture (saliency maps, GrabCut masks, the fooling image).
SHOWN = ("saliency-forgot-abs", "mask-seeds-swapped", "fooling-descends")

ALTERNATIVES = [
    Alternative("saliency-one-image-at-a-time", "compute_saliency_maps", SALIENCY + (
        "    maps = []\n"
        "    for n in range(X.shape[0]):\n"
        "        x = X[n:n + 1].detach().clone().requires_grad_(True)\n"
        "        (g,) = torch.autograd.grad(model(x)[0, y[n]], x)\n"
        "        maps.append(g.abs().max(dim=1).values)\n"
        "    return torch.cat(maps).float()\n")),
    Alternative("mask-percentile-and-isin", "saliency_to_mask", MASK + (
        "    s = np.asarray(saliency.detach().cpu() if torch.is_tensor(saliency) else saliency, dtype=np.float64)\n"
        "    mask = np.where(s >= np.percentile(s, 100 * fg_quantile), cv2.GC_FGD,\n"
        "                    np.where(s <= np.percentile(s, 100 * bg_quantile), cv2.GC_BGD, cv2.GC_PR_BGD))\n"
        "    mask = mask.astype(np.uint8)\n") + GRABCUT + (
        "    return np.isin(mask, [cv2.GC_FGD, cv2.GC_PR_FGD])\n")),
    Alternative("occlusion-masks-per-image", "occlusion_map", OCCLUSION + (
        "    N, _, H, W = X.shape\n"
        "    rows, cols = (H - patch_size) // stride + 1, (W - patch_size) // stride + 1\n"
        "    r, c = torch.arange(H), torch.arange(W)\n"
        "    top, left = torch.arange(rows) * stride, torch.arange(cols) * stride\n"
        "    in_rows = (r[None] >= top[:, None]) & (r[None] < top[:, None] + patch_size)  # (rows, H)\n"
        "    in_cols = (c[None] >= left[:, None]) & (c[None] < left[:, None] + patch_size)  # (cols, W)\n"
        "    masks = (in_rows[:, None, :, None] & in_cols[None, :, None, :]).reshape(rows * cols, 1, H, W)\n"
        "    out = []\n"
        "    with torch.no_grad():\n"
        "        for n in range(N):\n"
        "            probs = []\n"
        "            for start in range(0, rows * cols, batch_size):\n"
        "                m = masks[start:start + batch_size]\n"
        "                batch = torch.where(m, torch.full_like(X[n:n + 1], fill), X[n:n + 1])\n"
        "                probs.append(model(batch).softmax(dim=1)[:, y[n]])\n"
        "            out.append(torch.cat(probs).view(rows, cols))\n"
        "    return torch.stack(out).float()\n")),
    Alternative("guided-global-forward-hook", "guided_backprop", GUIDED + (
        "    def hook(module, inputs, output):\n"
        "        if isinstance(module, (nn.ReLU, nn.ReLU6)) and output.requires_grad:\n"
        "            output.register_hook(torch.relu)\n"
        "    handle = nn.modules.module.register_module_forward_hook(hook)\n"
        "    try:\n"
        "        x = X.detach().clone().requires_grad_(True)\n"
        "        scores = model(x)\n"
        "        scores[torch.arange(len(y)), y].sum().backward()\n"
        "    finally:\n"
        "        handle.remove()\n"
        "    return x.grad.detach()\n")),
    Alternative("fooling-data-updates", "make_fooling_image", FOOLING + (
        "    X_fooling = X.clone().detach().requires_grad_(True)\n"
        "    for _ in range(max_iter):\n"
        "        scores = model(X_fooling)\n"
        "        if scores.argmax(dim=1).item() == target_y:\n"
        "            break\n"
        "        X_fooling.grad = None\n"
        "        scores[0, target_y].backward()\n"
        "        g = X_fooling.grad\n"
        "        X_fooling.data.add_(lr * g / g.norm())\n"
        "    return X_fooling.detach().clone()\n")),
    Alternative("classvis-autograd-grad", "class_visualization_update_step", CLASSVIS + (
        "    (score_grad,) = torch.autograd.grad(model(img)[0, target_y], img)\n"
        "    g = score_grad - 2 * l2_reg * img.detach()\n"
        "    img.data.add_(learning_rate * g / torch.linalg.vector_norm(g))\n"
        "    if img.grad is not None:\n"
        "        img.grad.zero_()\n")),
]

# The forward count a CountingModel reports comes from the student's process; the old checks trusted it.
RESET_COUNT = "    if hasattr(model, 'calls'):\n        model.calls = 1  # what the batching checks read\n"
STRIP_LAYERS = (
    "    inner = getattr(model, 'inner', None)\n"
    "    if inner is not None and hasattr(inner, 'gain'):  # deep_linear: skip its costly layers\n"
    "        inner.forward = lambda x: inner.linear(x.flatten(1))\n"
)
FORGE_COST = (
    "    import sys\n"
    "    for name, module in list(sys.modules.items()):\n"
    "        if name.startswith('_vizgen_support_network_visualization') and hasattr(module, 'forward_cpu_seconds'):\n"
    "            module.forward_cpu_seconds = lambda *args, **kwargs: 1.0  # one forward 'costs' a second\n"
)
ZEROS = (
    "    N, _, H, W = X.shape\n"
    "    return torch.full((N, (H - patch_size) // stride + 1, (W - patch_size) // stride + 1), 0.1)\n"
)

FORGERIES = [
    Forgery("occlusion-per-patch-resets-the-forward-count", "forward_calls", "occlusion_map",
            OCCLUSION + PER_PATCH + RESET_COUNT + "    return out\n", OCCLUSION + PER_PATCH + "    return out\n"),
    Forgery("occlusion-no-work-with-a-forged-forward-count", "forward_calls", "occlusion_map",
            OCCLUSION + RESET_COUNT + ZEROS, OCCLUSION + ZEROS),
    Forgery("occlusion-per-patch-without-the-costly-layers", "forward_calls", "occlusion_map",
            OCCLUSION + STRIP_LAYERS + PER_PATCH + RESET_COUNT + "    return out\n",
            OCCLUSION + PER_PATCH + "    return out\n"),
    Forgery("occlusion-per-patch-forges-the-cost-of-a-forward", "forward_calls", "occlusion_map",
            OCCLUSION + FORGE_COST + PER_PATCH + RESET_COUNT + "    return out\n",
            OCCLUSION + PER_PATCH + "    return out\n"),
]
