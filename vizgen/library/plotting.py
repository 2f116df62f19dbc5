"""Small matplotlib helpers for the notebooks. Each returns its Figure and never calls ``plt.show()``.

Images are uint8 ``(H, W, 3)`` RGB or float ``(H, W)`` maps (drawn with a colour map); a batch may
be a list or an array with a leading axis. Torch tensors are accepted wherever arrays are.
"""

from __future__ import annotations

from typing import Sequence

import matplotlib
import numpy as np


def _numpy(x) -> np.ndarray:
    """A NumPy copy of an array or a (possibly GPU, grad-tracking) torch tensor."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def _titles(titles: Sequence[str] | None, count: int) -> list[str]:
    if titles is None:
        return [""] * count
    titles = list(titles)
    if len(titles) != count:
        raise ValueError(f"got {len(titles)} titles for {count} images.")
    return titles


def _grid(rows: int, cols: int, size: float, suptitle: str | None):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(rows, cols, figsize=(size * cols, size * rows + (0.4 if suptitle else 0)), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    if suptitle:
        fig.suptitle(suptitle)
    return fig, axes


def _draw(ax, image: np.ndarray, title: str = "", cmap: str = "gray") -> None:
    image = _numpy(image)
    if image.ndim == 2:
        ax.imshow(image, cmap=cmap)
    elif image.ndim == 3 and image.shape[2] == 3:
        ax.imshow(image)
    else:
        raise ValueError(f"an image must be (H, W) or (H, W, 3), got shape {image.shape}.")
    ax.set_title(title, fontsize=9)


def show_images(
    images,
    titles: Sequence[str] | None = None,
    ncols: int = 5,
    size: float = 2.5,
    cmap: str = "gray",
    suptitle: str | None = None,
) -> matplotlib.figure.Figure:
    """A grid of images, ``ncols`` per row (one axes per grid cell, blank cells hidden)."""
    images = [_numpy(im) for im in images]
    if not images:
        raise ValueError("show_images needs at least one image.")
    if ncols < 1:
        raise ValueError(f"ncols must be >= 1, got {ncols}.")
    titles = _titles(titles, len(images))
    ncols = min(ncols, len(images))
    fig, axes = _grid(-(-len(images) // ncols), ncols, size, suptitle)
    for ax, image, title in zip(axes.flat, images, titles):
        _draw(ax, image, title, cmap)
    fig.tight_layout()
    return fig


def show_saliency(
    images, saliency, titles: Sequence[str] | None = None, cmap: str = "hot", size: float = 2.5
) -> matplotlib.figure.Figure:
    """Photos on the top row, their ``(H, W)`` saliency maps under them (2 x N axes)."""
    images, maps = [_numpy(im) for im in images], [_numpy(s) for s in saliency]
    if len(images) != len(maps):
        raise ValueError(f"got {len(images)} images but {len(maps)} saliency maps.")
    titles = _titles(titles, len(images))
    fig, axes = _grid(2, len(images), size, None)
    for k, (image, smap, title) in enumerate(zip(images, maps, titles)):
        _draw(axes[0, k], image, title)
        _draw(axes[1, k], smap, "", cmap)
    fig.tight_layout()
    return fig


def overlay_mask(image, mask, color: Sequence[float] = (0.0, 1.0, 0.0), alpha: float = 0.45) -> np.ndarray:
    """uint8 ``(H, W, 3)``: ``image`` tinted with ``color`` (RGB in [0, 1]) where the bool ``mask`` is True."""
    image, mask = _numpy(image), _numpy(mask).astype(bool)
    if image.shape[:2] != mask.shape:
        raise ValueError(f"image {image.shape} and mask {mask.shape} must share (H, W).")
    out = image.astype(np.float64) / 255.0  # (H, W, 3)
    out[mask] = (1 - alpha) * out[mask] + alpha * np.asarray(color, dtype=np.float64)
    return (out * 255).round().astype(np.uint8)


def show_masks(images, masks, titles: Sequence[str] | None = None, size: float = 2.5) -> matplotlib.figure.Figure:
    """Each photo with its foreground mask tinted green (top) and the foreground cut out on white (bottom)."""
    images, masks = [_numpy(im) for im in images], [_numpy(m).astype(bool) for m in masks]
    if len(images) != len(masks):
        raise ValueError(f"got {len(images)} images but {len(masks)} masks.")
    titles = _titles(titles, len(images))
    fig, axes = _grid(2, len(images), size, None)
    for k, (image, mask, title) in enumerate(zip(images, masks, titles)):
        _draw(axes[0, k], overlay_mask(image, mask), title)
        _draw(axes[1, k], np.where(mask[..., None], image, 255).astype(np.uint8), f"foreground {mask.mean():.0%}")
    fig.tight_layout()
    return fig


def gradient_image(grad, percentile: float = 99.0) -> np.ndarray:
    """Signed gradients ``(N, 3, H, W)`` as uint8 ``(N, H, W, 3)`` pictures: 0 is grey, and each image is
    scaled so its ``percentile``-th percentile of ``|grad|`` reaches black or white (brighter than min-max
    scaling, which a few extreme values would dominate)."""
    g = _numpy(grad).astype(np.float64)
    if g.ndim != 4 or g.shape[1] != 3:
        raise ValueError(f"grad must be (N, 3, H, W), got shape {g.shape}.")
    scale = np.percentile(np.abs(g).reshape(len(g), -1), percentile, axis=1).reshape(-1, 1, 1, 1)  # (N, 1, 1, 1)
    rgb = 0.5 + 0.5 * np.clip(g / np.maximum(scale, 1e-12), -1, 1)  # (N, 3, H, W) in [0, 1]
    return (rgb.transpose(0, 2, 3, 1) * 255).round().astype(np.uint8)


def show_occlusion(
    images,
    maps,
    titles: Sequence[str] | None = None,
    patch_size: int = 32,
    stride: int = 16,
    alpha: float = 0.5,
    size: float = 2.5,
) -> matplotlib.figure.Figure:
    """Photos (top) and, under them, their occlusion maps upsampled onto a grey copy of the photo (2 x N axes).

    Map cell ``(i, j)`` is drawn centred on its patch (cell size ``stride``); the edge cells are
    extended to the image border. Colours run per image from blue (lowest probability) to red (highest).
    """
    images, maps = [_numpy(im) for im in images], [_numpy(m) for m in maps]
    if len(images) != len(maps):
        raise ValueError(f"got {len(images)} images but {len(maps)} occlusion maps.")
    titles = _titles(titles, len(images))
    fig, axes = _grid(2, len(images), size, None)
    start = (patch_size - stride) / 2 - stride  # left edge of the padded first cell
    for k, (image, omap, title) in enumerate(zip(images, maps, titles)):
        _draw(axes[0, k], image, title)
        padded = np.pad(omap, 1, mode="edge")  # (H' + 2, W' + 2)
        extent = (start, start + padded.shape[1] * stride, start + padded.shape[0] * stride, start)
        axes[1, k].imshow(image.mean(axis=2) if image.ndim == 3 else image, cmap="gray")
        axes[1, k].imshow(padded, cmap="jet", alpha=alpha, extent=extent, interpolation="bilinear")
        axes[1, k].set_xlim(0, image.shape[1])
        axes[1, k].set_ylim(image.shape[0], 0)
        axes[1, k].set_title(f"p: {omap.min():.2f} (blue) to {omap.max():.2f} (red)", fontsize=8)
    fig.tight_layout()
    return fig


def show_fooling(
    original, fooling, titles: Sequence[str] | None = None, magnify: float = 10.0, size: float = 3.0
) -> matplotlib.figure.Figure:
    """Original, fooling image, their difference, and the difference magnified ``magnify`` times (1 x 4 axes).

    ``original`` and ``fooling`` are model inputs, ``(3, H, W)`` or ``(1, 3, H, W)`` floats in [-1, 1]
    (the difference is often below one uint8 step, so it is computed before any rounding).
    """
    a, b = _numpy(original).astype(np.float64), _numpy(fooling).astype(np.float64)
    a, b = a.reshape(a.shape[-3:]), b.reshape(b.shape[-3:])  # (3, H, W)
    if a.shape != b.shape or a.shape[0] != 3:
        raise ValueError(f"original {a.shape} and fooling {b.shape} must both be (3, H, W).")
    diff = b - a  # (3, H, W)

    def to_rgb(x):  # (3, H, W) in [-1, 1] -> (H, W, 3) in [0, 1]
        return np.clip(x.transpose(1, 2, 0) * 0.5 + 0.5, 0, 1)

    panels = [to_rgb(a), to_rgb(b), to_rgb(diff), to_rgb(magnify * diff)]
    default = ["original", "fooling image", "difference", f"difference x{magnify:g}"]
    titles = default if titles is None else _titles(titles, 4)
    fig, axes = _grid(1, 4, size, None)
    for ax, panel, title in zip(axes.flat, panels, titles):
        ax.imshow(panel)
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig
