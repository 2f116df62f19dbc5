"""Image utilities: classifier preprocessing and the regularisers used by class visualisation.

The classifier (EfficientNet-Lite0) takes RGB in [0, 1] mapped to [-1, 1] by ``(x - 0.5) / 0.5``.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

MEAN = 0.5
STD = 0.5


def preprocess(images: np.ndarray) -> torch.Tensor:
    """uint8 ``(N, H, W, 3)`` or ``(H, W, 3)`` -> float32 ``(N, 3, H, W)`` in [-1, 1]."""
    array = np.asarray(images)
    if array.ndim == 3:
        array = array[None]
    x = torch.from_numpy(array.copy()).permute(0, 3, 1, 2).float() / 255.0  # (N, 3, H, W)
    return (x - MEAN) / STD


def deprocess(x: torch.Tensor, rescale: bool = False) -> np.ndarray:
    """float ``(N, 3, H, W)`` or ``(3, H, W)`` model input -> uint8 ``(N, H, W, 3)`` (or ``(H, W, 3)``).

    With ``rescale``, min-max scales each image first (for visualisations that leave [-1, 1]).
    """
    single = x.dim() == 3
    x = x.detach().cpu().float()
    x = x[None] if single else x  # (N, 3, H, W)
    if rescale:
        lo = x.amin(dim=(1, 2, 3), keepdim=True)
        hi = x.amax(dim=(1, 2, 3), keepdim=True)
        x = (x - lo) / (hi - lo).clamp_min(1e-12)
    else:
        x = x * STD + MEAN
    out = (x.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()  # (N, H, W, 3)
    return out[0] if single else out


def jitter(x: torch.Tensor, ox: int, oy: int) -> torch.Tensor:
    """Roll ``(N, C, H, W)`` by ``ox`` pixels along W and ``oy`` along H (wrapping around)."""
    return torch.roll(x, shifts=(oy, ox), dims=(2, 3))


def gaussian_kernel(sigma: float) -> torch.Tensor:
    radius = max(1, int(round(3 * sigma)))
    t = torch.arange(-radius, radius + 1, dtype=torch.float32)
    k = torch.exp(-(t**2) / (2 * sigma**2))
    return k / k.sum()  # (2r+1,)


def blur_image(x: torch.Tensor, sigma: float = 0.5) -> torch.Tensor:
    """Separable Gaussian blur of ``(N, C, H, W)`` per channel, reflect padding; same shape."""
    k = gaussian_kernel(sigma).to(x)
    c, r = x.shape[1], (k.numel() - 1) // 2
    kx = k.view(1, 1, 1, -1).repeat(c, 1, 1, 1)  # (C, 1, 1, K)
    ky = k.view(1, 1, -1, 1).repeat(c, 1, 1, 1)  # (C, 1, K, 1)
    x = F.conv2d(F.pad(x, (r, r, 0, 0), mode="reflect"), kx, groups=c)
    return F.conv2d(F.pad(x, (0, 0, r, r), mode="reflect"), ky, groups=c)


def random_offsets(max_jitter: int, generator: torch.Generator) -> tuple[int, int]:
    """Two jitter offsets ``(ox, oy)``, each uniform in ``[-max_jitter, max_jitter]``."""
    if max_jitter == 0:
        return 0, 0
    ox, oy = torch.randint(-max_jitter, max_jitter + 1, (2,), generator=generator).tolist()
    return ox, oy
