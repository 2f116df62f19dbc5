"""The feature visualization assignment's support module: its small models, its probe, and the
grader's own answers (brute force or a route other than the students') that the checks compare with.

Models (built in the worker from a ``ModelSpec``, and here by ``SUPPORT.build_model``):
``conv_relu_conv`` (Conv-ReLU-1x1 Conv, whose guided gradients and DeepDream steps are computed by
hand); hook hygiene on error uses the engine's ``raising_cnn``.
The probe ``receptive_field_of`` builds a stack of layers from plain descriptions next to the
student's ``receptive_field``, since modules cannot cross the process boundary.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from vizgen.author.support import Support
from vizgen.author.models import RaisingCNN


RAISES = RaisingCNN.__name__  # the word the error of the engine's ``raising_cnn`` carries


class ConvReluConv(nn.Module):
    """features = Conv2d(3, 4, 3) -> ReLU(inplace=True) -> Conv2d(4, 2, 1): every unit is a known function of
    one 3x3 window, so guided gradients and DeepDream steps are computable by hand. Channel 0 of features.0 is
    negative everywhere (bias -10), so the in-place ReLU turns all of it into 0: read after the ReLU, its
    strongest unit is lost."""

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(inplace=True), nn.Conv2d(4, 2, 1))
        with torch.no_grad():
            self.features[0].bias[0] = -10.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, 3, H, W) -> (N, 2, H - 2, W - 2)
        return self.features(x)


# ---- filter_grid -----------------------------------------------------------------------------


def grid_layout(count: int) -> tuple[int, int]:
    """(rows, cols) of the notebook's layout: cols = ceil(sqrt(K)), rows = ceil(K / cols)."""
    cols = math.ceil(math.sqrt(count))
    return math.ceil(count / cols), cols


def per_filter(weights: torch.Tensor) -> torch.Tensor:
    """Each filter min-max scaled over its own 3 * h * w values (a constant filter becomes 0), float64."""
    w = weights.double()
    lo, hi = w.amin(dim=(1, 2, 3), keepdim=True), w.amax(dim=(1, 2, 3), keepdim=True)  # (K, 1, 1, 1) each
    return torch.where(hi > lo, (w - lo) / (hi - lo).clamp_min(1e-300), torch.zeros_like(w))  # (K, 3, h, w)


# The usual ways to scale the filters wrongly, each with what to do instead.
GRID_MISTAKES: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "the whole stack was normalised with one min and max: normalise each filter with its own min and max":
        lambda w: (w - w.min()) / (w.max() - w.min()),
    "each colour channel was normalised on its own: take the min and max over all 3 * h * w values of a filter":
        lambda w: (w - w.amin(dim=(2, 3), keepdim=True)) / (w.amax(dim=(2, 3), keepdim=True) - w.amin(dim=(2, 3), keepdim=True)),
    "the filters were not normalised: map each filter to [0, 1] by (w - min) / (max - min)": lambda w: w,
    "each filter was divided by its largest absolute value instead of min-max scaled":
        lambda w: w / w.abs().amax(dim=(1, 2, 3), keepdim=True),
}


def expected_grid(weights: torch.Tensor, padding: int, scale: Callable = per_filter) -> torch.Tensor:
    """The grid the docstring describes (float64), with the filters scaled by ``scale``, block by block."""
    count, _, h, w = weights.shape
    rows, cols = grid_layout(count)
    scaled = scale(weights.double())  # (K, 3, h, w)
    height, width = rows * (h + padding) - padding, cols * (w + padding) - padding
    grid = torch.zeros(height, width, 3, dtype=torch.float64)  # (H, W, 3)
    for k in range(count):
        top, left = k // cols * (h + padding), k % cols * (w + padding)
        grid[top:top + h, left:left + w, :] = scaled[k].permute(1, 2, 0)
    return grid


def expect_grid(call, weights: torch.Tensor, padding: int) -> None:
    """``filter_grid(weights, padding)``'s value is the documented grid; else name the likely bug."""
    from vizgen.author.expect import expect_close, expect_dtype, expect_input_unchanged, expect_shape, expect_tensor, fail

    grid = expect_tensor(call.value, "filter_grid's image")
    rows, cols = grid_layout(len(weights))
    want = expected_grid(weights, padding)
    expect_shape(grid, want.shape, "filter_grid's image", hint=(
        f"{len(weights)} filters make {rows} rows of {cols} (cols = ceil(sqrt(K)), rows = ceil(K / cols)), "
        f"so (rows * (h + padding) - padding, cols * (w + padding) - padding, 3) with channels last"))
    expect_dtype(grid, torch.float32, "filter_grid's image")
    if not torch.isfinite(grid).all():
        fail("filter_grid's image has NaN where a filter is constant (max = min): divide by (max - min).clamp_min(1e-12) "
             "so that a constant filter becomes 0.")
    for mistake, scale in GRID_MISTAKES.items():
        if torch.allclose(grid.double(), expected_grid(weights, padding, scale), atol=1e-5):
            fail(f"filter_grid's image matches a known mistake: {mistake}.")
    gaps = expected_grid(weights, padding, torch.ones_like)[..., 0] == 0  # (H, W): between and after the filters
    if (grid[gaps] != 0).any():
        fail(f"filter_grid's padding and unused cells hold {grid[gaps].unique()[:3].tolist()}...; expected 0: "
             "start from torch.zeros and copy each filter into its cell.")
    expect_close(grid, want, "filter_grid's image", atol=1e-5, rtol=1e-5,
                 hint="filter k goes to row k // cols, column k % cols, at (row * (h + padding), col * (w + padding)), "
                      "as (w - min) / (max - min) over that filter's own values, channels last")
    expect_input_unchanged(call, "weights")


def hand_filters() -> torch.Tensor:
    """Five 3 x 2 x 2 filters with very different ranges: one min-max over the stack would show only one."""
    base = torch.arange(12, dtype=torch.float32).view(3, 2, 2)  # (3, 2, 2): values 0..11
    return torch.stack([base, 100 * base - 7, -base, base.flip(0) * 0.01, base * base])  # (5, 3, 2, 2)


# ---- features, neighbours, PCA -----------------------------------------------------------------


def penultimate(model: nn.Module, X: torch.Tensor) -> torch.Tensor:
    """The input of ``model``'s last nn.Linear, by the grader (the TinyCNN family: flatten(pool(features)))."""
    with torch.no_grad():
        return torch.flatten(model.pool(model.features(X)), 1)  # (N, 64)


def expect_neighbors(value, query: torch.Tensor, database: torch.Tensor, k: int) -> None:
    """``nearest_neighbors(query, database, k)``'s value is (Q, k) int64 indices whose distances are the k
    smallest in increasing order (brute force, float64: equal distances in any order)."""
    from vizgen.author.expect import expect_close, expect_dtype, expect_shape, expect_tensor, fail

    index = expect_tensor(value, "nearest_neighbors' indices")
    expect_shape(index, (len(query), k), "nearest_neighbors' indices", hint="one row of k database indices per query")
    expect_dtype(index, torch.int64, "nearest_neighbors' indices",
                 hint="return the indices (argsort / topk's .indices), not the distances")
    if index.min() < 0 or index.max() >= len(database):
        fail(f"nearest_neighbors returned indices from {int(index.min())} to {int(index.max())}; the database has "
             f"{len(database)} rows: return indices into the database.")
    if any(len(set(row)) != k for row in index.tolist()):
        fail("nearest_neighbors returned the same database row twice for one query: sort the distances once and take "
             "the first k indices.")
    dist = torch.cdist(query.double(), database.double())  # (Q, M) brute force, float64
    got = dist.gather(1, index)  # (Q, k)
    want = dist.sort(dim=1).values[:, :k]  # (Q, k)
    far = dist.sort(dim=1, descending=True).values[:, :k]
    if torch.allclose(got, far) and not torch.allclose(got, want):
        fail("nearest_neighbors returned the farthest rows first: sort the distances in increasing order "
             "(topk(..., largest=False) or argsort ascending).")
    expect_close(got, want, "the distances of the returned neighbours", atol=1e-9, rtol=1e-9,
                 hint="compute the Euclidean distance of every query to every database row and keep the k smallest, "
                      "nearest first")


def integer_points(n: int, d: int, seed: int, high: int = 3) -> torch.Tensor:
    """``(n, d)`` float32 points on a small integer grid: many exactly equal distances (ties)."""
    return torch.randint(0, high, (n, d), generator=torch.Generator().manual_seed(seed)).float()


def spread_data(n: int, d: int, seed: int) -> torch.Tensor:
    """``(n, d)`` float64 rows with variances 16 down to 0.25 along random orthogonal directions, centred at 2:
    every principal direction is well defined (distinct variances)."""
    generator = torch.Generator().manual_seed(seed)
    basis, _ = torch.linalg.qr(torch.randn(d, d, generator=generator, dtype=torch.float64))  # (d, d) orthogonal
    scales = torch.linspace(4.0, 0.5, d, dtype=torch.float64)  # (d,) standard deviations
    return (torch.randn(n, d, generator=generator, dtype=torch.float64) * scales) @ basis.T + 2.0  # (n, d)


def pca_components(x: torch.Tensor, k: int) -> torch.Tensor:
    """The top-k principal directions ``(k, D)`` by another route than the SVD: the covariance's
    eigenvectors (NumPy, float64). tests/test_features.py checks them against scikit-learn's
    ``PCA(k).components_`` up to sign; importing scikit-learn here would cost the grader a second."""
    data = x.double().numpy()
    _, vectors = np.linalg.eigh(np.cov(data - data.mean(axis=0), rowvar=False))  # ascending eigenvalues
    return torch.from_numpy(vectors[:, ::-1][:, :k].T.copy())  # (k, D)


def expect_pca(call, x: torch.Tensor, k: int) -> None:
    """``pca(x, k)`` returns (projected (N, k), components (k, D)): orthonormal components equal to the
    reference up to sign, projected = (x - mean) @ components.T; else name the bug."""
    from vizgen.author.expect import expect_close, expect_input_unchanged, expect_shape, expect_tensor, fail

    value = call.value
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        fail(f"pca returned a {type(value).__name__}; expected a pair (projected (N, k), components (k, D)).")
    projected = expect_tensor(value[0], "pca's projected").double()
    components = expect_tensor(value[1], "pca's components").double()
    expect_shape(components, (k, x.shape[1]), "pca's components",
                 hint="return one component per ROW, (k, D): the first k rows of Vh from torch.linalg.svd")
    expect_shape(projected, (x.shape[0], k), "pca's projected", hint="(features - mean) @ components.T")
    if not torch.allclose(components @ components.T, torch.eye(k, dtype=torch.float64), atol=1e-4):
        fail("pca's components are not orthonormal rows (components @ components.T is not the identity): take the "
             "right singular vectors (rows of Vh), not U or vectors scaled by the singular values.")
    for name, want in (("uncentred", torch.linalg.svd(x.double(), full_matrices=False).Vh[:k]),
                       ("correct", pca_components(x, k))):  # (k, D) each, defined up to sign
        aligned = components * torch.sign((components * want).sum(dim=1, keepdim=True))  # (k, D)
        if name == "uncentred" and torch.allclose(aligned, want, atol=1e-4):
            fail("pca's components are those of the uncentred data: subtract the mean row before the SVD.")
    expect_close(aligned, want, "pca's components (up to sign)", atol=1e-4, rtol=1e-4,
                 hint="the first k right singular vectors of features - mean, by decreasing singular value")
    centred = x.double() - x.double().mean(dim=0)  # (N, D)
    expect_close(projected, centred @ components.T, "pca's projected", atol=1e-6, rtol=1e-6,
                 hint="projected = (features - mean) @ components.T, with the mean subtracted")
    expect_input_unchanged(call, "features")


# ---- activations, receptive fields, patches ------------------------------------------------------


def layer_output(model: nn.Module, X: torch.Tensor, layer: str) -> torch.Tensor:
    """The named module's output as it returned it (the grader's own hook keeps a copy)."""
    kept = []
    hooked = model.get_submodule(layer)
    handle = hooked.register_forward_hook(lambda m, i, out: kept.append(out.detach().clone()))
    try:
        with torch.no_grad():
            model(X)
    finally:
        handle.remove()
    return kept[-1]


# Layer descriptions for receptive_field_of: (kind, kernel, stride, padding, dilation) or (kind,) for
# the layers that keep geometry. Kernel settings are ints or pairs.
_BUILD: dict[str, Callable[..., nn.Module]] = {
    "conv": lambda k, s, p, d: nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d),
    "maxpool": lambda k, s, p, d: nn.MaxPool2d(k, stride=s, padding=p, dilation=d),
    "avgpool": lambda k, s, p, d: nn.AvgPool2d(k, stride=s, padding=p),
    "relu": lambda: nn.ReLU(),
    "bn": lambda: nn.BatchNorm2d(1),
}


def build_stack(stack: list) -> list[nn.Module]:
    """The modules a plain description lists, in order (``("vgg19", "conv3_1")`` is VGG19's layers to conv3_1)."""
    if stack and stack[0][0] == "vgg19":
        from vizgen.topics.style import VGG19Features, layer_index

        return list(VGG19Features("avg", stack[0][1]).features[: layer_index(stack[0][1]) + 1])
    return [_BUILD[kind](*settings) for kind, *settings in stack]


def receptive_field_of(receptive_field: Callable, stack: list, as_sequential: bool = False):
    """Call the student's ``receptive_field`` on the layers ``stack`` describes (a list, or an nn.Sequential)."""
    layers = build_stack(stack)
    return receptive_field(nn.Sequential(*layers) if as_sequential else layers)


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


def field_mistake(got: tuple, stack: list) -> str:
    """Name the usual receptive_field mistake that ``got`` matches, or ""."""
    want = field_by_hand(stack)
    return next((m for m, flags in FIELD_MISTAKES.items() if field_by_hand(stack, **flags) in (got,) and got != want), "")


def expect_field(value, stack: list, name: str) -> None:
    """``value`` is the (size, stride, offset) of ``stack``'s hand-computed field; else name the mistake."""
    from vizgen.author.expect import fail

    if not isinstance(value, (tuple, list)) or len(value) != 3:
        fail(f"receptive_field returned a {type(value).__name__}; expected a tuple (size, stride, offset).")
    got = tuple(v.item() if isinstance(v, torch.Tensor) and v.numel() == 1 else v for v in value)
    got = tuple(int(v) if isinstance(v, (int, float)) and float(v).is_integer() else v for v in got)
    want = field_by_hand(stack)
    if got != want:
        mistake = field_mistake(got, stack) if all(isinstance(v, int) for v in got) else ""
        rule = ("per layer, size += (dilation * (kernel - 1)) * stride, offset -= padding * stride, then stride *= the "
                "layer stride")
        fail(f"receptive_field({name}) is {got}; expected (size, stride, offset) = {want}: {mistake or rule}.")


def gradient_field(model: nn.Module, size: int, unit: int) -> tuple[int, int]:
    """Rows (first, last) of the input pixels that unit (unit, unit) of ``model``'s output depends on, measured
    by the gradient of its channel sum with respect to a random input ``(1, 3, size, size)``."""
    x = torch.randn(1, 3, size, size, generator=torch.Generator().manual_seed(0)).requires_grad_(True)
    (grad,) = torch.autograd.grad(model(x)[0, :, unit, unit].sum(), x)
    rows = (grad.abs().sum(dim=(0, 1, 3)) > 0).nonzero().flatten()  # (H,) rows reached
    return int(rows.min()), int(rows.max())


def brute_force_patches(model: nn.Module, images: torch.Tensor, layer: str, channel: int, k: int,
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


def expect_patches(call, model: nn.Module, images: torch.Tensor, layer: str, channel: int, k: int, field) -> None:
    """``max_activating_patches``' (patches, locations) equal the brute-force answer; else name the bug."""
    from vizgen.author.expect import expect_close, expect_dtype, expect_shape, expect_tensor, fail

    value = call.value
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        fail(f"max_activating_patches returned a {type(value).__name__}; expected (patches, locations).")
    patches = expect_tensor(value[0], "patches")
    locations = expect_tensor(value[1], "locations")
    want_patches, want_locations = brute_force_patches(model, images, layer, channel, k, field)
    expect_shape(locations, (k, 3), "locations", hint="one row (n, i, j) per patch")
    expect_dtype(locations, torch.int64, "locations")
    expect_shape(patches, want_patches.shape, "patches", hint=f"(k, C, size, size) with size = field[0] = {field[0]}")
    if not torch.equal(locations, want_locations):
        if torch.equal(locations.flip(0), want_locations) or set(map(tuple, locations.tolist())) == set(
                map(tuple, want_locations.tolist())):
            fail("max_activating_patches found the right units but not largest first: sort by activation, descending.")
        fail(f"max_activating_patches' first locations are {locations[:2].tolist()}; expected "
             f"{want_locations[:2].tolist()}: take the k largest values of that channel over all images and positions "
             "of the layer's output and unravel each flat index into (n, i, j).")
    inside = want_patches.ne(0).any(dim=1, keepdim=True).expand_as(want_patches)  # pixels inside the image
    if torch.allclose(patches[inside], want_patches[inside], atol=1e-6) and not torch.allclose(patches, want_patches):
        fail("the patches are right inside the image but not where the field crosses its border: fill those "
             "pixels with 0 (pad the images with zeros before cropping).")
    expect_close(patches, want_patches, "patches", atol=1e-6, rtol=1e-6,
                 hint="crop rows offset + i * stride ... + size - 1 (and columns likewise) of images[n]")


# ---- guided backprop of one neuron, DeepDream --------------------------------------------------------


def guided_neuron_by_hand(model: ConvReluConv, X: torch.Tensor, channel: int, guided: bool = True) -> torch.Tensor:
    """Guided (or plain) gradient of each image's strongest unit of ``features.2``'s ``channel``:
    W1^T [(h > 0) * max(W2[c], 0)] placed at that unit's 3x3 window of the input."""
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


def first_conv_neuron_by_hand(model: ConvReluConv, X: torch.Tensor, channel: int) -> torch.Tensor:
    """The gradient of each image's strongest unit of ``features.0``'s ``channel`` (before the in-place ReLU):
    that filter's weights W1[c], placed at the unit's 3x3 window (no activation lies below it)."""
    conv1 = model.features[0]
    h = conv1(X)[:, channel]  # (N, H - 2, W - 2) as the convolution returned it
    grad = torch.zeros_like(X)
    for n in range(len(X)):
        i, j = divmod(int(h[n].flatten().argmax()), h.shape[2])
        grad[n, :, i:i + 3, j:j + 3] = conv1.weight[channel]  # (3, 3, 3)
    return grad


def dream_candidates(model: nn.Module, img: torch.Tensor, layer: str, learning_rate: float) -> dict[str, torch.Tensor]:
    """The correct DeepDream step first, then the usual mistakes, each from the grader's own objective."""

    def gradient(objective: Callable[[torch.Tensor], torch.Tensor], after_inplace: bool = False) -> torch.Tensor:
        kept = []

        def hook(module, inputs, output):
            kept.append(output)
            return None if after_inplace else output.clone()

        hooked = model.get_submodule(layer)
        handle = hooked.register_forward_hook(hook)
        try:
            x = img.detach().clone().requires_grad_(True)
            model(x)
            (g,) = torch.autograd.grad(objective(kept[-1]), x)
        finally:
            handle.remove()
        return g

    def step(grad: torch.Tensor, norm: Callable = lambda g: g.abs().mean(), sign: float = 1.0) -> torch.Tensor:
        return img.detach() + sign * learning_rate * grad / (norm(grad) + 1e-8)

    g = gradient(lambda a: 0.5 * a.pow(2).sum())
    return {
        "correct": step(g),
        "the step descends: add the gradient (gradient ascent on the activations), do not subtract it": step(g, sign=-1),
        "the objective is the sum of the activations: DeepDream maximises 1/2 * sum(a ** 2)":
            step(gradient(lambda a: a.sum())),
        "the gradient is divided by its largest absolute value: divide by its mean absolute value":
            step(g, lambda g: g.abs().max()),
        "the gradient is divided by its L2 norm: divide by its mean absolute value": step(g, torch.linalg.norm),
        "the gradient is not normalised: divide it by its mean absolute value (+ 1e-8)": step(g, lambda g: 1 - 1e-8),
        "the activations were read after an in-place activation that follows the layer overwrote them: in the hook "
        "keep the output and return output.clone(), so later in-place layers change the copy":
            step(gradient(lambda a: 0.5 * a.pow(2).sum(), after_inplace=True)),
    }


def expect_dream_step(call, model: nn.Module, img: torch.Tensor, layer: str, learning_rate: float,
                      want: torch.Tensor | None = None, atol: float = 1e-5, rtol: float = 1e-4) -> None:
    """``deepdream_step``'s value equals the correct step (``want``, or the grader's own); else name the mistake."""
    from vizgen.author.expect import expect_close, expect_shape, expect_tensor, fail

    step = expect_tensor(call.value, "deepdream_step's image")
    expect_shape(step, img.shape, "deepdream_step's image", hint="return the updated image, same shape as img")
    candidates = dream_candidates(model, img, layer, learning_rate)
    correct = candidates["correct"] if want is None else want
    if not torch.allclose(step.double(), correct.double(), atol=atol, rtol=rtol):
        for mistake, value in candidates.items():
            if mistake != "correct" and torch.allclose(step.double(), value.double(), atol=atol, rtol=rtol):
                fail(f"deepdream_step's image matches a known mistake: {mistake}.")
        if torch.allclose(step.double(), img.double()):
            fail("deepdream_step returned the image unchanged: add learning_rate * g / (mean(|g|) + 1e-8).")
    expect_close(step, correct, "deepdream_step's image", atol=atol, rtol=rtol,
                 hint="g = d/d img of 1/2 * sum(a ** 2) over the layer's output a; return img + learning_rate * g / "
                      "(g.abs().mean() + 1e-8)")


SUPPORT = Support(models={"conv_relu_conv": ConvReluConv},
                  probes={"receptive_field_of": receptive_field_of})
