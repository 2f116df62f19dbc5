"""Datasets from the offline asset cache and from photos that installed packages ship.

Images are returned as uint8 NumPy arrays, ``(N, H, W, 3)`` RGB; use ``vizgen.library.image`` to turn
them into model inputs.
"""

from __future__ import annotations

import gzip
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from vizgen.assets.fetch import asset_path
from vizgen.assets.sources import SOURCES
from vizgen.course.config import CoursePaths
from vizgen.errors import AssetError

PACKAGE_PHOTOS = {
    # name: (package, path inside the package)
    "chelsea": ("skimage", "data/chelsea.png"),
    "coffee": ("skimage", "data/coffee.png"),
    "astronaut": ("skimage", "data/astronaut.png"),
    "rocket": ("skimage", "data/rocket.jpg"),
    "motorcycle": ("skimage", "data/motorcycle_left.png"),
    "china": ("sklearn", "datasets/images/china.jpg"),
    "flower": ("sklearn", "datasets/images/flower.jpg"),
    "grace_hopper": ("matplotlib", "mpl-data/sample_data/grace_hopper.jpg"),
}


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise AssetError(f"package {package} is not installed: run `make install` (or pip install -e .).")
    return Path(list(spec.submodule_search_locations)[0])


def imagenet_class_names() -> list[str]:
    """The 1000 ImageNet class names in index order, from timm's bundled metadata."""
    info = _package_dir("timm") / "data" / "_info"
    synsets = (info / "imagenet_synsets.txt").read_text().split()
    lemmas = dict(line.split("\t", 1) for line in (info / "imagenet_synset_to_lemma.txt").read_text().splitlines())
    return [lemmas[s].split(",")[0].strip() for s in synsets]


def load_rgb(path: Path, size: int | None = None) -> np.ndarray:
    """One photo as ``(H, W, 3)`` uint8; with ``size``, resized (bicubic) and centre-cropped to a square."""
    img = Image.open(path).convert("RGB")
    if size is not None:
        scale = size / min(img.size)
        w, h = max(size, round(img.width * scale)), max(size, round(img.height * scale))
        img = img.resize((w, h), Image.BICUBIC)
        left, top = (w - size) // 2, (h - size) // 2
        img = img.crop((left, top, left + size, top + size))
    return np.array(img, dtype=np.uint8)


def load_package_photo(name: str, size: int | None = None) -> np.ndarray:
    """A photo shipped inside scikit-image, scikit-learn or matplotlib, e.g. ``"chelsea"``."""
    if name not in PACKAGE_PHOTOS:
        raise AssetError(f"unknown photo {name!r}: choose from {', '.join(PACKAGE_PHOTOS)}.")
    package, member = PACKAGE_PHOTOS[name]
    return load_rgb(_package_dir(package) / member, size)


@dataclass(frozen=True)
class LabelledImages:
    images: np.ndarray  # (N, H, W, 3) uint8
    labels: np.ndarray  # (N,) int64 ImageNet class indices
    names: list[str]  # class names, one per image


def load_imagenet_samples(paths: CoursePaths, size: int = 224, num: int | None = None) -> LabelledImages:
    """The 20 labelled ImageNet validation photos (from the foolbox wheel), sorted by file name."""
    source = next(s for s in SOURCES if s.name == "imagenet-samples")
    files = [asset_path(paths, item.target) for item in source.files][:num]
    labels = np.array([int(f.stem.split("_")[-1]) for f in files], dtype=np.int64)
    classes = imagenet_class_names()
    images = np.stack([load_rgb(f, size) for f in files])
    return LabelledImages(images, labels, [classes[i] for i in labels])


def _read_idx(path: Path) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        data = handle.read()
    magic = int.from_bytes(data[:4], "big")
    if magic >> 8 != 0x08:  # 0x08 = unsigned byte
        raise AssetError(f"{path} is not an idx file of unsigned bytes: run `vizgen fetch --only mnist`.")
    ndim = magic & 0xFF
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def load_mnist(paths: CoursePaths, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """MNIST as ``(images (N, 28, 28) uint8, labels (N,) int64)``; split is "train" or "test"."""
    prefix = {"train": "train", "test": "t10k"}.get(split)
    if prefix is None:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}.")
    images = _read_idx(asset_path(paths, f"cache/mnist/{prefix}-images-idx3-ubyte"))
    labels = _read_idx(asset_path(paths, f"cache/mnist/{prefix}-labels-idx1-ubyte"))
    return images, labels.astype(np.int64)
