"""Feature visualization: what surrounds the students' functions in the feature visualization notebook.

The students write the graded functions (``filter_grid``, ``extract_features``, ``nearest_neighbors``,
``pca``, ``get_activations``, ``receptive_field``, ``max_activating_patches``,
``guided_backprop_neuron``, ``deepdream_step``); this module provides:

* ``geometric_layers``: the convolutions and poolings of a model up to a named layer, the input of
  ``receptive_field`` (ReLU, BatchNorm and the like do not change geometry);
* ``precision_at_k``: how many of each query's retrieved neighbours share its label;
* ``deepdream``: the DeepDream driver of Mordvintsev et al. (2015): octaves (a pyramid of scales,
  each octave's added detail carried up to the next) and random jitter around the student's
  ``deepdream_step``, as in their reference notebook.

Nothing happens at import; models, images and devices are passed explicitly.
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from vizgen.library.image import jitter
from vizgen.library.image import random_offsets

GEOMETRIC = (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)  # the layers that change a unit's field
DreamStep = Callable[[torch.Tensor, nn.Module, str, float], torch.Tensor]


def geometric_layers(model: nn.Module, layer: str) -> list[nn.Module]:
    """The ``nn.Conv2d`` / ``nn.MaxPool2d`` / ``nn.AvgPool2d`` modules of ``model`` in
    ``named_modules()`` order, up to and including the module named ``layer`` (e.g. ``"features.5"``).

    For a sequential network this is the path from the input to ``layer``; for networks with
    branches (residual blocks) it lists every branch's layers, so fields come out as large as the
    longest path's.
    """
    names = dict(model.named_modules())
    if layer not in names:
        raise ValueError(f"model has no module named {layer!r}: use a name from dict(model.named_modules()), "
                         f"e.g. {next(iter(n for n in names if n), '')!r}.")
    layers = []
    for name, module in model.named_modules():
        if isinstance(module, GEOMETRIC):
            layers.append(module)
        if name == layer:
            return layers
    return layers


def precision_at_k(neighbors: torch.Tensor, database_labels: torch.Tensor, query_labels: torch.Tensor) -> float:
    """Share of retrieved neighbours that carry their query's label, over all queries.

    ``neighbors`` (Q, k) int64 indices into the database, ``database_labels`` (M,), ``query_labels`` (Q,).
    """
    if neighbors.dim() != 2 or len(neighbors) != len(query_labels):
        raise ValueError(f"neighbors must be (Q, k) with Q = {len(query_labels)} queries, "
                         f"got {tuple(neighbors.shape)}.")
    hits = database_labels[neighbors] == query_labels.view(-1, 1)  # (Q, k)
    return hits.float().mean().item()


def _resize(img: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    return F.interpolate(img, size=size, mode="bilinear", align_corners=False)  # (1, C, h, w)


def deepdream(
    img: torch.Tensor,
    model: nn.Module,
    layer: str,
    step: DreamStep,
    *,
    octaves: int = 3,
    octave_scale: float = 1.4,
    iterations: int = 10,
    learning_rate: float = 0.01,
    max_jitter: int = 32,
    value_range: tuple[float, float] | None = None,
    seed: int = 0,
) -> torch.Tensor:
    """DeepDream (Mordvintsev, Olah and Tyka 2015): amplify what ``layer`` sees in ``img`` ``(1, C, H, W)``.

    The image is shrunk ``octaves - 1`` times by ``octave_scale``. From the smallest scale up, the
    detail dreamt so far is upsampled and added to the image at that scale; then ``iterations``
    times: roll by random offsets of at most ``max_jitter`` pixels (Olah et al. 2017's transformation
    robustness), ``img = step(img, model, layer, learning_rate)`` (the student's ``deepdream_step``,
    which returns a new image), roll back, and clamp to ``value_range`` when given. Returns a new
    ``(1, C, H, W)`` float32 tensor; ``img`` is not modified. Randomness only from ``seed``.
    """
    if img.dim() != 4 or len(img) != 1:
        raise ValueError(f"img must be one image (1, C, H, W), got {tuple(img.shape)}: index it as img[None].")
    if octaves < 1 or iterations < 0 or octave_scale <= 1:
        raise ValueError(f"need octaves >= 1, iterations >= 0 and octave_scale > 1; got {octaves}, {iterations}, "
                         f"{octave_scale}.")
    generator = torch.Generator().manual_seed(seed)
    base = img.detach().float()
    sizes = [(max(1, round(base.shape[2] / octave_scale**i)), max(1, round(base.shape[3] / octave_scale**i)))
             for i in reversed(range(octaves))]  # smallest first
    detail = torch.zeros_like(_resize(base, sizes[0]))  # (1, C, h0, w0): what the dream added so far
    for size in sizes:
        detail = _resize(detail, size)
        original = _resize(base, size) if size != tuple(base.shape[2:]) else base  # (1, C, h, w)
        dream = original + detail
        for _ in range(iterations):
            ox, oy = random_offsets(max_jitter, generator)
            dream = jitter(step(jitter(dream, ox, oy), model, layer, learning_rate).detach(), -ox, -oy)
            if value_range is not None:
                dream = dream.clamp(*value_range)
        detail = dream - original
    return dream.detach().clone()
