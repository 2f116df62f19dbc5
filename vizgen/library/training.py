"""Training loops and their pieces, shared by the generative-model notebooks: endless minibatches
(``minibatches``), learning-rate decay (``linear_decay``), Adam on binarised MNIST (``fit``) and a
batched, seeded evaluation (``batched_mean``)."""

from __future__ import annotations

from typing import Callable, Iterator

import torch
from torch import nn
from tqdm import tqdm

from vizgen.library.mnist import binarize
from vizgen.library.models import model_device
from vizgen.library.seeding import seeded_from

BatchLoss = Callable[[nn.Module, torch.Tensor], torch.Tensor]  # (model, x (B, 784)) -> scalar loss
LrSchedule = Callable[[int], float]


def minibatches(data: torch.Tensor, batch_size: int,
                generator: torch.Generator | None = None) -> Iterator[torch.Tensor]:
    """An endless stream of minibatches ``(batch_size, ...)`` of the rows of ``data`` ``(N, ...)``.

    Each pass (epoch) visits the rows in a fresh random order drawn from ``generator`` (torch's
    global RNG when None) and drops the last ``N % batch_size`` rows, so every batch is full (batch
    norm sees equal batches). ``data`` is not modified; batches are copies.
    """
    if not 1 <= batch_size <= len(data):
        raise ValueError(f"batch_size must be between 1 and the number of images ({len(data)}), got {batch_size}.")
    while True:
        order = torch.randperm(len(data), generator=generator)  # (N,)
        for start in range(0, len(data) - batch_size + 1, batch_size):
            yield data[order[start : start + batch_size]]  # (batch_size, ...)


def linear_decay(num_iterations: int, start: float = 0.5) -> LrSchedule:
    """Learning-rate multipliers that keep 1.0 for the first ``start`` share of ``num_iterations``
    and then fall linearly towards 0.0: 1 / (decaying iterations) at the last one, so no step is
    wasted (Zhu et al. 2017, "Unpaired Image-to-Image Translation using Cycle-Consistent
    Adversarial Networks", ICCV, Sec. 4: "keep the same learning rate for the first 100 epochs and
    linearly decay the rate to zero over the next 100 epochs").

    Returns ``factor(t)`` for iterations ``t = 0 .. num_iterations - 1``.
    """
    if num_iterations < 1 or not 0.0 <= start < 1.0:
        raise ValueError(f"need num_iterations >= 1 and 0 <= start < 1, got {num_iterations} and {start}.")
    first = int(start * num_iterations)  # iterations at the full rate
    steps = num_iterations - first  # iterations that decay, >= 1

    def factor(t: int) -> float:
        return 1.0 if t < first else (num_iterations - t) / steps  # 1.0 at t = first, 1/steps at the end

    return factor


def fit(
    model: nn.Module,
    batch_loss: BatchLoss,
    grey_train: torch.Tensor,
    *,
    epochs: int = 10,
    batch_size: int = 128,
    lr: float = 1e-3,
    generator: torch.Generator | None = None,
    on_epoch: Callable[[int, float], None] | None = None,
    progress: bool = True,
    lr_schedule: Callable[[int], float] | None = None,
) -> list[float]:
    """Train ``model`` with Adam (Kingma and Ba 2015) on ``batch_loss(model, x)``.

    ``grey_train`` is ``(N, 784)`` grey levels in [0, 1]; every batch ``x`` is binarised afresh
    (``binarize``), on the model's device. ``on_epoch(epoch, mean_loss)`` is called after each
    epoch (1, 2, ...). ``lr_schedule(e)`` multiplies ``lr`` during epoch ``e = 0, 1, ...`` (e.g.
    ``vizgen.library.training.linear_decay(epochs)``); None keeps it constant. Returns the mean training loss of
    each epoch. The model is left in train mode.
    """
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be >= 1, got {epochs} and {batch_size}.")
    generator = generator if generator is not None else torch.Generator().manual_seed(0)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    device, per_epoch = model_device(model), len(grey_train) // batch_size
    batches = minibatches(grey_train, batch_size, generator)
    history = []
    model.train()
    with seeded_from(generator):
        for epoch in range(1, epochs + 1):
            for group in optimizer.param_groups:
                group["lr"] = lr * (lr_schedule(epoch - 1) if lr_schedule is not None else 1.0)
            total = 0.0
            for _ in tqdm(range(per_epoch), disable=not progress, mininterval=2.0, desc=f"epoch {epoch}/{epochs}"):
                x = binarize(next(batches), generator).to(device)  # (B, 784) in {0, 1}
                loss = batch_loss(model, x)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += loss.item()
            history.append(total / per_epoch)
            if on_epoch is not None:
                on_epoch(epoch, history[-1])
    return history


@torch.no_grad()
def batched_mean(estimate: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, batch_size: int = 500,
                 seed: int = 0) -> float:
    """The mean of a per-batch estimate (a scalar averaged over its batch, e.g. nats per image) over
    all of ``x`` ``(N, 784)``, weighted by batch size; the global RNG is forked and seeded, so a
    stochastic estimate gives the same number on every call."""
    total = 0.0
    with seeded_from(torch.Generator().manual_seed(seed)):
        for start in range(0, len(x), batch_size):
            batch = x[start : start + batch_size]  # (B, 784)
            total += float(estimate(batch)) * len(batch)
    return total / len(x)
