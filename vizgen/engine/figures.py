"""A failed check's figure as a small PNG, drawn in the grader from the plain arrays the check kept.

The check (grader side) compares the student's output, which came back from the worker as data, with
the expected one, and keeps both as arrays (``author.messages.Figure``); nothing here runs student code.
A hidden check's figure leaves out the panels that show the expected output: the student sees their
own output and its difference from the answer, never the hidden answer itself. The student's output and
the expected one share one grey scale (or the fixed range the check names), so a darker panel means
smaller values. Thumbnails only: each
panel at most ``THUMBNAIL`` pixels a side, so a whole Gradescope ``results.json`` stays small.
"""

from __future__ import annotations

import base64
import io

import numpy as np

from vizgen.author.messages import Figure

THUMBNAIL = 96  # pixels, the longer side of each panel
_DPI = 100


def _finite(image: np.ndarray) -> np.ndarray:
    return np.nan_to_num(np.asarray(image, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)


def _thumbnail(image: np.ndarray, scale: tuple[float, float] | None = None) -> np.ndarray:
    """``image`` ``(H, W)`` or ``(H, W, 3)`` shrunk by block averaging so that its longer side is at most
    ``THUMBNAIL``, scaled from ``scale`` (default: its own range) to [0, 1] (a constant image is mid-grey);
    NaN and infinities shown as 0."""
    image = _finite(image)
    step = int(np.ceil(max(image.shape[:2]) / THUMBNAIL))
    if step > 1:
        h, w = (image.shape[0] // step) * step, (image.shape[1] // step) * step
        image = image[:h, :w].reshape(h // step, step, w // step, step, *image.shape[2:]).mean(axis=(1, 3))
    low, high = scale or (float(image.min()), float(image.max()))
    return np.clip((image - low) / (high - low), 0, 1) if high > low else np.full_like(image, 0.5)


def render_png(figure: Figure, hidden: bool) -> bytes:
    """The figure's panels side by side, each titled, with its caption below; PNG bytes."""
    from matplotlib.figure import Figure as Canvas  # no pyplot: no backend switched, no global figure state

    panels = [(title, image) for title, image in figure.panels if not (hidden and title in figure.expected)]
    shared = [_finite(image) for title, image in panels if title in figure.same_scale]
    scale = figure.scale or ((min(float(i.min()) for i in shared), max(float(i.max()) for i in shared))
                             if shared else None)
    canvas = Canvas(figsize=(1.3 * max(len(panels), 1), 1.55 if figure.caption else 1.4), dpi=_DPI)
    for index, (title, image) in enumerate(panels):
        ax = canvas.add_subplot(1, len(panels), index + 1)
        picture = _thumbnail(image, scale if title in figure.same_scale else None)
        ax.imshow(picture, cmap=None if picture.ndim == 3 else "gray", interpolation="nearest")
        ax.set_title(title, fontsize=7)
        ax.axis("off")
    if figure.caption:
        canvas.text(0.5, 0.02, figure.caption, ha="center", fontsize=7)
    buffer = io.BytesIO()
    canvas.savefig(buffer, format="png", dpi=_DPI)
    return buffer.getvalue()


def figure_text(figure: Figure | None, hidden: bool) -> str:
    """The figure as base64 PNG text for a ``CheckResult`` (plain data on every wire), or "" without one."""
    return base64.b64encode(render_png(figure, hidden)).decode("ascii") if figure is not None else ""
