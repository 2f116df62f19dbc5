"""Repeatable randomness without touching the caller's: torch's global CPU RNG forked and seeded from an
explicit ``torch.Generator`` for the length of a block."""

from __future__ import annotations

import contextlib
from typing import Iterator

import torch


@contextlib.contextmanager
def seeded_from(generator: torch.Generator | None) -> Iterator[None]:
    """With a generator: fork torch's global CPU RNG and seed it from ``generator``, so that
    ``sample_noise`` (which calls ``torch.rand``, as in CS231n) is repeatable; the caller's global
    RNG is restored on exit. Without one: torch's global RNG is used as it is."""
    if generator is None:
        yield
        return
    seed = int(torch.randint(0, 2**62, (1,), generator=generator))
    with torch.random.fork_rng(devices=[]):  # CPU only: the noise is drawn on the CPU
        torch.random.default_generator.manual_seed(seed)
        yield
