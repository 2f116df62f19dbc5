"""The feature visualization assignment's judge: grader side only (never shipped, never imported beside student
code). Correct values by brute force or another route than the students' (hand formulas, the covariance's
eigenvectors, pixel-by-pixel crops), the usual mistakes' values (``*_mistakes``: ``{"correct": ..., "<the mistake,
said as its fix>": value}``, stored with the public cases, and made into cases for the hidden checks by ``case``), and
the verdicts that need the judge's own routes (neighbours with ties, CPU time, receptive fields).
"""
from __future__ import annotations

import functools
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn

from vizgen.author import (ModelSpec, StoredCase, expect_dtype, expect_match, expect_shape, expect_tensor, fail,
                           reproduced_mistake)
from vizgen.author.support import support_module

fv = support_module(Path(__file__).with_name("probes.py"))


def distinct(mistakes: Callable[..., dict]) -> Callable[..., dict]:
    """A ``*_mistakes`` function without the mistakes whose value is the correct one on these inputs."""

    @functools.wraps(mistakes)
    def wrapper(*args, **kwargs) -> dict:
        out = mistakes(*args, **kwargs)
        correct = out["correct"] if isinstance(out["correct"], tuple) else (out["correct"],)
        return {k: v for k, v in out.items() if k == "correct" or not any(
            c.shape == v.shape and c.dtype.is_floating_point == v.dtype.is_floating_point
            and torch.allclose(c.double(), v.double(), atol=1e-7) for c in correct)}

    return wrapper


def built(model) -> nn.Module:
    """The grader's own copy of a model a check names by its spec (a module is used as given)."""
    return fv.SUPPORT.build_model(model) if isinstance(model, ModelSpec) else model


# ---- filter_grid -----------------------------------------------------------------------------


def grid_layout(count: int) -> tuple[int, int]:
    """(rows, cols) of the notebook's layout: cols = ceil(sqrt(K)), rows = ceil(K / cols)."""
    cols = math.ceil(math.sqrt(count))
    return math.ceil(count / cols), cols


def scaled(w: torch.Tensor, dims: tuple = (1, 2, 3)) -> torch.Tensor:
    """Min-max scaled over ``dims`` (each filter over its own 3 * h * w values: a constant filter becomes 0)."""
    lo, hi = w.amin(dim=dims, keepdim=True), w.amax(dim=dims, keepdim=True)
    return (w - lo) / (hi - lo).clamp_min(1e-12)


GRID_MISTAKES: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {  # the mistake, said as its fix -> its scaling
    "the whole stack was normalised with one min and max: normalise each filter with its own min and max":
        lambda w: scaled(w, (0, 1, 2, 3)),
    "each colour channel was normalised on its own: take the min and max over all 3 * h * w values of a filter":
        lambda w: scaled(w, (2, 3)),
    "the filters were not normalised: map each filter to [0, 1] by (w - min) / (max - min)": lambda w: w,
    "each filter was divided by its largest absolute value instead of min-max scaled":
        lambda w: w / w.abs().amax(dim=(1, 2, 3), keepdim=True).clamp_min(1e-12),
}
GAPS_NOT_ZERO = ("the padding and unused cells are not 0: start from torch.zeros and copy each filter into its cell")
CONSTANT_NAN = ("the image has NaN exactly where a filter is constant (max = min, so (w - min) / (max - min) is "
                "0 / 0): divide by (max - min).clamp_min(1e-12), so that a constant filter becomes 0")


def expected_grid(weights: torch.Tensor, padding: int, scale: Callable = scaled, fill: float = 0.0) -> torch.Tensor:
    """The grid the docstring describes (float64), with the filters scaled by ``scale``, on a ``fill`` background."""
    count, _, h, w = weights.shape
    rows, cols = grid_layout(count)
    cells = scale(weights.double())  # (K, 3, h, w)
    grid = torch.full((rows * (h + padding) - padding, cols * (w + padding) - padding, 3), fill, dtype=torch.float64)
    for k in range(count):
        top, left = k // cols * (h + padding), k % cols * (w + padding)
        grid[top:top + h, left:left + w, :] = cells[k].permute(1, 2, 0)
    return grid


@distinct
def grid_mistakes(weights: torch.Tensor, padding: int = 1) -> dict[str, torch.Tensor]:
    out = {"correct": expected_grid(weights, padding)}
    out.update({mistake: expected_grid(weights, padding, scale) for mistake, scale in GRID_MISTAKES.items()})
    if padding > 0 or len(weights) < math.prod(grid_layout(len(weights))):
        out[GAPS_NOT_ZERO] = expected_grid(weights, padding, fill=1.0)
    out[CONSTANT_NAN] = expected_grid(weights, padding, lambda w: (w - w.amin(dim=(1, 2, 3), keepdim=True)) / (
        w.amax(dim=(1, 2, 3), keepdim=True) - w.amin(dim=(1, 2, 3), keepdim=True)))  # 0 / 0 = NaN
    return out


# ---- extract_features, get_activations ---------------------------------------------------------------


def penultimate(model, X: torch.Tensor, first: bool = False) -> torch.Tensor:
    """The input of the model's last nn.Linear (or its ``first``), by the grader (the TinyCNN family:
    flatten(pool(features)), then every layer of a Sequential head but its last)."""
    model = built(model)
    with torch.no_grad():
        flat = torch.flatten(model.pool(model.features(X)), 1)  # (N, 64)
        return flat if first or not isinstance(model.head, nn.Sequential) else model.head[:-1](flat)


@distinct
def features_mistakes(model, X: torch.Tensor) -> dict[str, torch.Tensor]:
    with torch.no_grad():
        logits = built(model)(X)  # (N, classes)
    return {"correct": penultimate(model, X),  # train mode changes BatchNorm's running statistics: a model of its own
            "the model ran in training mode (BatchNorm used the batch's statistics): use the model as given, in eval "
            "mode": penultimate(built(model).train(), X),
            "extract_features returned the logits (the model's output): return the INPUT of the last nn.Linear (a "
            "forward pre-hook on it sees that input)": logits,
            "these are the inputs of the FIRST nn.Linear: hook the last one, [m for m in model.modules() if "
            "isinstance(m, nn.Linear)][-1]": penultimate(model, X, first=True)}


def layer_output(model, X: torch.Tensor, layer: str, clone: bool = True) -> torch.Tensor:
    """The named module's output as it returned it (``clone``) or as later in-place layers left it."""
    model, kept = built(model), []
    handle = model.get_submodule(layer).register_forward_hook(
        lambda m, i, out: kept.append(out.detach().clone() if clone else out.detach()))
    try:
        with torch.no_grad():
            model(X)
    finally:
        handle.remove()
    return kept[-1]


@distinct
def activations_mistakes(model, X: torch.Tensor, layer: str) -> dict[str, torch.Tensor]:
    return {"correct": layer_output(model, X, layer),
            "the activations were overwritten by the in-place ReLU6 that follows the layer: keep output.clone() (or "
            "output.detach().clone()) in the hook, not the output tensor itself": layer_output(model, X, layer, False)}


# ---- nearest_neighbors, pca --------------------------------------------------------------------------

PAIR_LOOP_CPU_S = 0.1  # CPU seconds for 300 x 300 pairs: vectorised 2-5 ms, one loop over pairs ~0.5 s (measured)


@distinct
def neighbor_mistakes(query: torch.Tensor, database: torch.Tensor, k: int) -> dict[str, torch.Tensor]:
    """Indices: brute force in float64, and the usual mistakes (for inputs without ties)."""
    order = torch.cdist(query.double(), database.double()).argsort(dim=1, stable=True)  # (Q, M)
    out = {"correct": order[:, :k],
           "nearest_neighbors returned the farthest rows first: sort the distances in increasing order "
           "(topk(..., largest=False) or argsort ascending)": order.flip(1)[:, :k]}
    if k < order.shape[1]:
        out["the nearest row was skipped (as if each query were in the database): keep the first k"] = order[:, 1:k + 1]
    dist = torch.cdist(query.double(), database.double()).sort(dim=1).values[:, :k]  # (Q, k)
    out["nearest_neighbors returned the k smallest distances, not their indices: return argsort's result (or "
        "topk's .indices)"] = dist
    out["nearest_neighbors returned the k smallest squared distances, not their indices: return argsort's result "
        "(or topk's .indices)"] = dist.pow(2)
    return out


def named_distances(index: torch.Tensor, mistakes: dict) -> str:
    """The distance mistake (float values) that ``index`` reproduces to float32 rounding, or ""."""
    floats = {m: v for m, v in mistakes.items() if v.dtype.is_floating_point}
    return reproduced_mistake(index, floats, 1e-5, 1e-5) if index.dtype.is_floating_point else ""


def expect_neighbors(value, query: torch.Tensor, database: torch.Tensor, k: int) -> None:
    """(Q, k) int64 indices whose distances (brute force, float64) are the k smallest in increasing order (equal
    distances in any order); else name the mistake those distances reproduce."""
    index = expect_tensor(value, "nearest_neighbors' indices")
    expect_shape(index, (len(query), k), "nearest_neighbors' indices", hint="one row of k database indices per query")
    mistakes = neighbor_mistakes(query, database, k)
    named = named_distances(index, mistakes)
    if named:
        fail(f"nearest_neighbors' values are wrong: likely bug: {named}.")
    expect_dtype(index, torch.int64, "nearest_neighbors' indices",
                 hint="return database indices as int64 (argsort's result, or topk's .indices)")
    if index.min() < 0 or index.max() >= len(database):
        fail(f"nearest_neighbors returned indices from {int(index.min())} to {int(index.max())}; the database has "
             f"{len(database)} rows: return indices into the database.")
    dist = torch.cdist(query.double(), database.double())  # (Q, M) brute force, float64
    candidates = {name: dist.gather(1, order) for name, order in mistakes.items() if order.dtype == torch.int64}
    expect_match(dist.gather(1, index), candidates.pop("correct"), candidates,
                 "the distances of the returned neighbours", fv.NEIGHBORS_FORMULA, atol=1e-9, rtol=1e-9)


def expect_no_pair_loop(call, query: torch.Tensor, database: torch.Tensor) -> None:
    """The call's CPU time (the kernel's clock of the function's process, which student code cannot forge) is at
    most ``PAIR_LOOP_CPU_S``: 20 times a vectorised search, a fifth of a loop over 300 x 300 pairs."""
    if call.cpu_seconds > PAIR_LOOP_CPU_S:
        fail(f"nearest_neighbors took {call.cpu_seconds:.2f} s of CPU for {len(query)} x {len(database)} pairs (a "
             f"vectorised search takes about 0.005 s; at most {PAIR_LOOP_CPU_S} s): compute every distance at once "
             "(torch.cdist, or ||q||^2 - 2 q.d + ||d||^2 with one matrix product), then sort each row.")


def canonical_signs(components: torch.Tensor) -> torch.Tensor:
    """(k,) signs making each row's largest-magnitude entry positive: components are defined up to sign."""
    return torch.sign(components.gather(1, components.abs().argmax(dim=1, keepdim=True))).flatten()


def pca_components(x: torch.Tensor, k: int) -> torch.Tensor:
    """The top-k principal directions ``(k, D)`` from the covariance's eigenvectors (NumPy, float64), not the SVD;
    tests/library/test_features.py checks them against scikit-learn's ``PCA(k).components_`` up to sign."""
    data = x.double().numpy()
    _, vectors = np.linalg.eigh(np.cov(data - data.mean(axis=0), rowvar=False))  # ascending eigenvalues
    return torch.from_numpy(vectors[:, ::-1][:, :k].T.copy())  # (k, D)


@distinct
def pca_mistakes(features: torch.Tensor, k: int) -> dict:
    """"correct": (projected (N, k), components (k, D)); mistakes of either, told apart by shape; canonical signs."""
    x = features.double()
    centred, canon = x - x.mean(dim=0), lambda c: c * canonical_signs(c)[:, None]
    components = canon(pca_components(x, k))  # (k, D)
    _, vectors = np.linalg.eigh(np.cov(centred.numpy(), rowvar=False))
    return {"correct": (centred @ components.T, components),
            "pca's components are those of the uncentred data: subtract the mean row before the SVD":
                canon(torch.linalg.svd(x, full_matrices=False).Vh[:k]),
            "pca's components are the directions of SMALLEST variance: keep those of the k largest singular values "
            "(the first rows of Vh)": canon(torch.from_numpy(vectors[:, :k].T.copy())),
            "pca's projected is features @ components.T: subtract the mean first, (features - mean) @ components.T":
                x @ components.T}


# ---- receptive_field ------------------------------------------------------------------------------

FIELD_RULE = ("per layer, size += (dilation * (kernel - 1)) * stride, offset -= padding * stride, then stride *= the "
              "layer stride")


def field_by_hand(stack: list, scale_size: bool = True, dilate: bool = True, pad: bool = True,
                  scale_offset: bool = True) -> tuple[int, int, int]:
    """(size, stride, offset) by the unrolled formulas, size = 1 + sum d (k - 1) * prod(earlier strides) and
    offset = -sum padding * prod(earlier strides) (Araujo et al. 2019, eq. 2 and 5); the flags switch a term
    off the way the usual mistakes do."""
    size, jump, offset = 1, 1, 0
    for kind, *settings in stack:
        if kind in ("conv", "maxpool", "avgpool"):
            k, s, p, d = (v[0] if isinstance(v, (tuple, list)) else v for v in settings)
            size += (d if dilate else 1) * (k - 1) * (jump if scale_size else 1)
            offset -= (p if pad else 0) * (jump if scale_offset else 1)
            jump *= s
    return size, jump, offset


FIELD_MISTAKES = {  # what the mistake is and what to do instead -> the flags that make field_by_hand repeat it
    "the size adds (kernel - 1) per layer without scaling it by the stride so far: each layer adds "
    "(dilation * (kernel - 1)) * (product of the earlier strides)": {"scale_size": False},
    "the size ignores dilation: a kernel k with dilation d spans d * (k - 1) + 1 pixels": {"dilate": False},
    "each padding shifts the field by padding * (the product of the earlier strides), not by padding":
        {"scale_offset": False},
    "the offset ignores padding: each padded layer moves the field's start padding * (earlier strides) left":
        {"pad": False},
}


def field_tuple(value) -> tuple:
    """The (size, stride, offset) a student returned, as plain ints where they are integral; else fail."""
    if not isinstance(value, (tuple, list)) or len(value) != 3:
        fail(f"receptive_field returned a {type(value).__name__}; expected a tuple (size, stride, offset).")
    got = tuple(v.item() if isinstance(v, torch.Tensor) and v.numel() == 1 else v for v in value)
    return tuple(int(v) if isinstance(v, (int, float)) and float(v).is_integer() else v for v in got)


def expect_field(value, stack: list, name: str) -> None:
    """``value`` is the (size, stride, offset) of ``stack``'s hand-computed field; else name the mistake."""
    got, want = field_tuple(value), field_by_hand(stack)
    if got == want:
        return
    mistakes = {m: torch.tensor(field_by_hand(stack, **flags)) for m, flags in FIELD_MISTAKES.items()}
    mistakes = {m: v for m, v in mistakes.items() if tuple(v.tolist()) != want}
    mistake = reproduced_mistake(torch.tensor(got), mistakes, 0, 0) if all(isinstance(v, int) for v in got) else ""
    fail(f"receptive_field({name}) is {got}; expected (size, stride, offset) = {want}: "
             f"{f'likely bug: {mistake}' if mistake else f'compute {FIELD_RULE}'}.")


def gradient_field(model: nn.Module, size: int, unit: int) -> tuple[int, int]:
    """Rows (first, last) of the input pixels that unit (unit, unit) of ``model``'s output depends on, measured
    by the gradient of its channel sum with respect to a random input ``(1, 3, size, size)``."""
    x = torch.randn(1, 3, size, size, generator=torch.Generator().manual_seed(0)).requires_grad_(True)
    (grad,) = torch.autograd.grad(model(x)[0, :, unit, unit].sum(), x)
    rows = (grad.abs().sum(dim=(0, 1, 3)) > 0).nonzero().flatten()  # (H,) rows reached
    return int(rows.min()), int(rows.max())


# ---- max_activating_patches -------------------------------------------------------------------------

PATCH_CROP = "crop rows offset + i * stride ... + size - 1 (and columns likewise) of images[n]"


def brute_force_patches(model, images: torch.Tensor, layer: str, channel: int, k: int,
                        field: tuple[int, int, int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Every unit of the channel ranked by activation, and each field cropped pixel by pixel (zeros outside)."""
    size, stride, offset = field
    act = layer_output(model, images, layer)[:, channel]  # (N, H', W')
    units = sorted(((float(act[n, i, j]), n, i, j) for n in range(act.shape[0]) for i in range(act.shape[1])
                    for j in range(act.shape[2])), reverse=True)[:k]
    patches = torch.zeros(k, images.shape[1], size, size)
    for r, (_, n, i, j) in enumerate(units):
        for dy in range(size):
            for dx in range(size):
                y, x = offset + i * stride + dy, offset + j * stride + dx
                if 0 <= y < images.shape[2] and 0 <= x < images.shape[3]:
                    patches[r, :, dy, dx] = images[n, :, y, x]
    return patches, torch.tensor([u[1:] for u in units], dtype=torch.int64)


@distinct
def patches_mistakes(model, images: torch.Tensor, layer: str, channel: int, k: int, field) -> dict:
    """"correct": (patches, locations); mistakes of either, told apart by shape."""
    (size, stride, offset), model = field, built(model)
    patches, locations = brute_force_patches(model, images, layer, channel, k, field)
    return {"correct": (patches, locations),
            "max_activating_patches found the right units but not largest first: sort by activation, descending":
                locations.flip(0),
            "the patches start at i * stride: add the field's offset (offset + i * stride), which is negative "
            "when padding makes the field start before the image": brute_force_patches(
                model, images, layer, channel, k, (size, stride, 0))[0],
            "the patches start at offset + i: multiply the unit's position by the field's stride":
                brute_force_patches(model, images, layer, channel, k, (size, 1, offset))[0]}


# ---- guided backprop of one neuron, DeepDream --------------------------------------------------------


def guided_gradient(model, X: torch.Tensor, layer: str, channel: int, guided: tuple = (nn.ReLU, nn.ReLU6),
                    neuron: str = "max", clone: bool = True) -> torch.Tensor:
    """d (each image's strongest unit of the channel, or its sum) / d X, guided rule at every activation of the
    kinds ``guided``, from the layer's output as it returned it (``clone``) or as later in-place layers left it."""
    model, kept, handles = built(model), [], []

    def keep(module, inputs, output):
        kept.append(output)
        return output.clone() if clone else None

    def guide(module, inputs, output):
        if output.requires_grad:
            output.register_hook(lambda g: g.clamp(min=0))

    if guided:
        handles += [m.register_forward_hook(guide) for m in model.modules() if isinstance(m, guided)]
    handles.append(model.get_submodule(layer).register_forward_hook(keep))
    try:
        x = X.detach().clone().requires_grad_(True)
        model(x)
        maps = kept[-1][:, channel].flatten(1)  # (N, H' W')
        return torch.autograd.grad(maps.max(dim=1).values.sum() if neuron == "max" else maps.sum(), x)[0]
    finally:
        for handle in handles:
            handle.remove()


@distinct
def guided_mistakes(model, X: torch.Tensor, layer: str, channel: int) -> dict[str, torch.Tensor]:
    return {"correct": guided_gradient(model, X, layer, channel),
            "guided_backprop_neuron returned the plain gradient: at every ReLU / ReLU6 also zero the gradient where "
            "the gradient arriving from above is negative (a hook that clamps it at 0)":
                guided_gradient(model, X, layer, channel, guided=()),
            "the guided rule was applied at the nn.ReLU modules only: nn.ReLU6 is no subclass of nn.ReLU, so hook "
            "every activation of both kinds, isinstance(m, (nn.ReLU, nn.ReLU6))":
                guided_gradient(model, X, layer, channel, guided=(nn.ReLU,)),
            "the whole channel was backpropagated (its sum): backpropagate only each image's strongest unit of it":
                guided_gradient(model, X, layer, channel, neuron="sum"),
            "the neuron was read after an in-place activation that follows the layer had overwritten its output: in "
            "the layer's forward hook keep the output and return output.clone()":
                guided_gradient(model, X, layer, channel, clone=False)}


def guided_neuron_by_hand(model, X: torch.Tensor, channel: int, guided: bool = True) -> torch.Tensor:
    """Guided (or plain) gradient of each image's strongest unit of ``features.2``'s ``channel`` on Conv-ReLU-Conv:
    W1^T [(h > 0) * max(W2[c], 0)] placed at that unit's 3x3 window of the input."""
    model = built(model)
    conv1, conv2 = model.features[0], model.features[2]
    h = conv1(X)  # (N, 4, H - 2, W - 2) pre-activation
    out = conv2(h.clamp(min=0))[:, channel]  # (N, H - 2, W - 2)
    weight = conv2.weight[channel, :, 0, 0]  # (4,)
    grad = torch.zeros_like(X)
    for n in range(len(X)):
        i, j = divmod(int(out[n].flatten().argmax()), out.shape[2])
        upstream = (h[n, :, i, j] > 0) * (weight.clamp(min=0) if guided else weight)  # (4,)
        grad[n, :, i:i + 3, j:j + 3] = torch.einsum("f,fchw->chw", upstream, conv1.weight)  # (3, 3, 3)
    return grad


def first_conv_neuron_by_hand(model, X: torch.Tensor, channel: int) -> torch.Tensor:
    """The gradient of each image's strongest unit of ``features.0``'s ``channel`` (before the in-place ReLU) on
    Conv-ReLU-Conv: that filter's weights W1[c], placed at the unit's 3x3 window (no activation lies below it)."""
    conv1 = built(model).features[0]
    h = conv1(X)[:, channel]  # (N, H - 2, W - 2) as the convolution returned it
    grad = torch.zeros_like(X)
    for n in range(len(X)):
        i, j = divmod(int(h[n].flatten().argmax()), h.shape[2])
        grad[n, :, i:i + 3, j:j + 3] = conv1.weight[channel]  # (3, 3, 3)
    return grad


@distinct
def dream_mistakes(img: torch.Tensor, model, layer: str, learning_rate: float) -> dict[str, torch.Tensor]:
    """The correct DeepDream step first, then the usual mistakes, each from the grader's own objective."""
    model = built(model)

    def gradient(objective: Callable[[torch.Tensor], torch.Tensor], after_inplace: bool = False) -> torch.Tensor:
        kept, x = [], img.detach().clone().requires_grad_(True)
        handle = model.get_submodule(layer).register_forward_hook(
            lambda m, i, out: kept.append(out) or (None if after_inplace else out.clone()))
        try:
            model(x)
            return torch.autograd.grad(objective(kept[-1]), x)[0]
        finally:
            handle.remove()

    def step(grad: torch.Tensor, norm: Callable = lambda g: g.abs().mean(), sign: float = 1.0) -> torch.Tensor:
        return img.detach() + sign * learning_rate * grad / (norm(grad) + 1e-8)

    g = gradient(lambda a: 0.5 * a.pow(2).sum())
    return {
        "correct": step(g),
        "the step descends: add the gradient (gradient ascent on the activations), do not subtract it":
            step(g, sign=-1),
        "the objective is the sum of the activations: DeepDream maximises 1/2 * sum(a ** 2)":
            step(gradient(lambda a: a.sum())),
        "the gradient is divided by its largest absolute value: divide by its mean absolute value":
            step(g, lambda g: g.abs().max()),
        "the gradient is divided by its L2 norm: divide by its mean absolute value": step(g, torch.linalg.norm),
        "the gradient is not normalised: divide it by its mean absolute value (+ 1e-8)": step(g, lambda g: 1 - 1e-8),
        "the activations were read after an in-place activation that follows the layer overwrote them: in the hook "
        "keep the output and return output.clone(), so later in-place layers change the copy":
            step(gradient(lambda a: 0.5 * a.pow(2).sum(), after_inplace=True)),
        "deepdream_step returned the image unchanged: add learning_rate * g / (mean(|g|) + 1e-8)": img.detach().clone(),
    }


MISTAKES_OF = {"filter_grid": grid_mistakes, "extract_features": features_mistakes,
               "nearest_neighbors": neighbor_mistakes, "pca": pca_mistakes, "get_activations": activations_mistakes,
               "max_activating_patches": patches_mistakes, "guided_backprop_neuron": guided_mistakes,
               "deepdream_step": dream_mistakes}


def case(function: str, *args, atol: float, rtol: float) -> StoredCase:
    """A case the hidden checks make now, as a stored public case carries it: the judge's correct value of
    ``function`` on ``args`` and the usual mistakes' values there."""
    values = MISTAKES_OF[function](*args)
    output = values.pop("correct")
    return StoredCase(f"judge:{function}", function, list(args), {}, output, atol, rtol, "computed by the judge",
                      values)
