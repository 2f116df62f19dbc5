"""MNIST helpers for the GAN assignment: tensors in [-1, 1] and a small digit classifier.

The classifier judges generated digits (``vizgen.library.quality``). Its weights ship inside the
package (``vizgen/weights/mnist_classifier.pt``), so the student bundle needs no download;
rebuild them with ``vizgen models train-mnist`` (or ``python -m vizgen.library.mnist``).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from vizgen.course.config import CoursePaths
from vizgen.library.data import load_mnist
from vizgen.errors import AssetError

WEIGHTS_PATH = Path(__file__).resolve().parents[1] / "weights" / "mnist_classifier.pt"
REBUILD_COMMAND = "vizgen models train-mnist"  # also: python -m vizgen.library.mnist
MIN_TEST_ACCURACY = 0.99
TEST_SEED = 0  # the seed of the one binarisation of the test set that every evaluation uses


def mnist_tensors(paths: CoursePaths, split: str = "train") -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST as ``(x (N, 1, 28, 28) float32 in [-1, 1], y (N,) int64)``; split is "train" or "test"."""
    images, labels = load_mnist(paths, split)  # (N, 28, 28) uint8, (N,) int64
    x = torch.from_numpy(images.copy()).float().div_(127.5).sub_(1.0).unsqueeze(1)  # (N, 1, 28, 28)
    return x, torch.from_numpy(labels.copy())


def grey_mnist(paths: CoursePaths, split: str = "train") -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST as ``(x (N, 784) float32 grey levels in [0, 1], y (N,) int64)``."""
    images, labels = load_mnist(paths, split)  # (N, 28, 28) uint8, (N,) int64
    x = torch.from_numpy(images.reshape(len(images), -1).astype(np.float32) / 255.0)  # (N, 784)
    return x, torch.from_numpy(labels.copy())


def binarize(grey: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Each pixel set to 1 with probability its grey level ``(N, 784)`` in [0, 1], else 0 (float32)."""
    if grey.min() < 0 or grey.max() > 1:
        raise ValueError(f"grey levels must lie in [0, 1], got [{grey.min():.3g}, {grey.max():.3g}]: divide by 255.")
    return torch.bernoulli(grey, generator=generator)  # (N, 784) in {0, 1}


def binarized_mnist(paths: CoursePaths, split: str = "test",
                    seed: int = TEST_SEED) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST binarised once with a fixed seed: ``(x (N, 784) float32 in {0, 1}, y (N,) int64)``."""
    grey, labels = grey_mnist(paths, split)
    return binarize(grey, torch.Generator().manual_seed(seed)), labels


def as_mnist_batch(x: torch.Tensor) -> torch.Tensor:
    """View ``(N, 784)`` (what GAN generators output) or ``(N, 1, 28, 28)`` as ``(N, 1, 28, 28)``."""
    if x.dim() == 2 and x.shape[1] == 28 * 28:
        return x.reshape(-1, 1, 28, 28)  # (N, 1, 28, 28)
    if x.dim() == 4 and tuple(x.shape[1:]) == (1, 28, 28):
        return x
    raise ValueError(
        f"MNIST batches are (N, 784) or (N, 1, 28, 28), got {tuple(x.shape)}: reshape the samples first."
    )


class MnistClassifier(nn.Module):
    """A small CNN for 28x28 digits in [-1, 1]: three 3x3 conv blocks, then fc128 -> fc10.

    conv32 -> pool -> conv64 -> pool -> conv64 -> pool (3x3) -> fc128 -> dropout -> fc10, each
    conv followed by BatchNorm, 2x2 max-pool and ReLU (ReLU after the pool: the same values, a
    quarter of the work); 131,050 parameters.
    """

    feature_dim = 128

    def __init__(self, dropout: float = 0.3):
        super().__init__()

        def block(c_in: int, c_out: int) -> list[nn.Module]:
            return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.MaxPool2d(2), nn.ReLU()]

        self.conv = nn.Sequential(*block(1, 32), *block(32, 64), *block(64, 64))  # 28 -> 14 -> 7 -> 3
        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(64 * 3 * 3, self.feature_dim), nn.ReLU())
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(self.feature_dim, 10))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate features: ``(N, 784)`` or ``(N, 1, 28, 28)`` -> ``(N, 128)`` (after ReLU)."""
        return self.fc(self.conv(as_mnist_batch(x)))  # (N, 128)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits: ``(N, 784)`` or ``(N, 1, 28, 28)`` in [-1, 1] -> ``(N, 10)``."""
        return self.head(self.features(x))  # (N, 10)


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1000) -> float:
    """Share of ``x`` (N, 1, 28, 28) that ``model`` (in eval mode) labels as ``y`` (N,)."""
    correct = 0
    for i in range(0, len(x), batch_size):
        predicted = model(x[i : i + batch_size]).argmax(dim=1)  # (B,)
        correct += int((predicted == y[i : i + batch_size]).sum())
    return correct / len(x)


def _shift(x: torch.Tensor, generator: torch.Generator, max_shift: int = 2) -> torch.Tensor:
    """Light augmentation: one random translation by up to ``max_shift`` pixels per batch."""
    dy, dx = torch.randint(-max_shift, max_shift + 1, (2,), generator=generator).tolist()
    padded = F.pad(x, (max_shift,) * 4, value=-1.0)  # (N, 1, 28 + 2s, 28 + 2s), background is -1
    return padded[:, :, max_shift + dy : max_shift + dy + 28, max_shift + dx : max_shift + dx + 28]  # (N, 1, 28, 28)


def train_mnist_classifier(
    paths: CoursePaths,
    *,
    epochs: int = 4,
    seed: int = 0,
    batch_size: int = 128,
    lr: float = 2e-3,
    log: Callable[[str], None] = print,
) -> tuple[MnistClassifier, float]:
    """Train ``MnistClassifier`` on the CPU with Adam and a one-cycle schedule.

    Deterministic given ``seed``: the initialisation and dropout draw from a forked global RNG
    (the caller's stream is untouched), shuffling and augmentation from a private generator.
    Returns ``(model in eval mode with parameters frozen, test accuracy)``.
    """
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}: the default is 4.")
    x_train, y_train = mnist_tensors(paths, "train")  # (60000, 1, 28, 28), (60000,)
    x_test, y_test = mnist_tensors(paths, "test")  # (10000, 1, 28, 28), (10000,)
    generator = torch.Generator().manual_seed(seed)
    steps_per_epoch = -(-len(x_train) // batch_size)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = MnistClassifier()
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=epochs * steps_per_epoch)
        for epoch in range(epochs):
            start, total = time.perf_counter(), 0.0
            model.train()
            order = torch.randperm(len(x_train), generator=generator)  # (60000,)
            for i in range(0, len(order), batch_size):
                idx = order[i : i + batch_size]
                loss = F.cross_entropy(model(_shift(x_train[idx], generator)), y_train[idx])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                schedule.step()
                total += loss.item() * len(idx)
            model.eval()
            acc = accuracy(model, x_test, y_test)
            seconds = time.perf_counter() - start
            log(f"epoch {epoch + 1}/{epochs}: loss {total / len(order):.4f}, test accuracy {acc:.2%} ({seconds:.0f} s)")
    return model.requires_grad_(False), acc


def save_classifier(model: nn.Module, path: Path) -> Path:
    """Write the model's state_dict (plain tensors, loadable with ``weights_only=True``) to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({k: v.detach().clone() for k, v in model.state_dict().items()}, path)
    return path


def load_mnist_classifier(path: Path | None = None, device: str | torch.device = "cpu") -> MnistClassifier:
    """The MNIST classifier with the shipped weights (or those at ``path``), in eval mode, frozen."""
    path = Path(path) if path is not None else WEIGHTS_PATH
    if not path.is_file():
        raise AssetError(f"MNIST classifier weights {path} are missing: run `{REBUILD_COMMAND}` to rebuild them.")
    model = MnistClassifier()
    try:
        model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    except (RuntimeError, KeyError, EOFError) as error:  # wrong keys/shapes, or a truncated file
        raise AssetError(f"MNIST classifier weights {path} do not load ({error}): run `{REBUILD_COMMAND}`.") from error
    return model.eval().requires_grad_(False).to(device)


def train_and_save(
    paths: CoursePaths, out: Path | None = None, *, epochs: int = 4, seed: int = 0, log: Callable[[str], None] = print
) -> float:
    """Train the classifier, save it to ``out`` (default: the shipped weights file), return test accuracy.

    Raises AssetError, without saving, if test accuracy is below 99%.
    """
    start = time.perf_counter()
    model, acc = train_mnist_classifier(paths, epochs=epochs, seed=seed, log=log)
    if acc < MIN_TEST_ACCURACY:
        raise AssetError(
            f"the MNIST classifier reached only {acc:.2%} test accuracy (< {MIN_TEST_ACCURACY:.0%}); "
            f"nothing was saved: rerun `{REBUILD_COMMAND}` with more epochs."
        )
    target = save_classifier(model, Path(out) if out is not None else WEIGHTS_PATH)
    log(f"saved {target} (test accuracy {acc:.2%}, {time.perf_counter() - start:.0f} s)")
    return acc


if __name__ == "__main__":
    from vizgen.course.config import course_paths

    train_and_save(course_paths())
