"""The GAN assignment's support (see ``vizgen.grading.support``): its probes and its diagnostics.

Probes: ``train_discriminator`` and ``train_generator`` train a tiny GAN with the student's loss
next to the student's code and return logits before and after, so the checks can compute the
true objective in the grader. Diagnostics: the grader computes what the usual wrong losses would
return on the same logits (labels swapped, sigmoid applied twice, sum instead of mean, ...) and
says which one the student's value matches.
"""

from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from vizgen.grading.expect import expect_tensor
from vizgen.grading.messages import CheckFailure
from vizgen.grading.expect import expect_loss, expect_reference_loss, likely_bug  # noqa: F401 - used by the checks
from vizgen.grading.support import Support


def _tiny_gan(seed: int) -> tuple[nn.Module, nn.Module]:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        disc = nn.Sequential(nn.Linear(8, 16), nn.LeakyReLU(0.01), nn.Linear(16, 1))
        gen = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 8), nn.Tanh())
    return disc, gen


def train_discriminator(loss: Callable, real: torch.Tensor, noise: torch.Tensor, steps: int = 30, seed: int = 0) -> dict:
    """Train a tiny discriminator with the student's D loss against a fixed tiny generator.

    Returns the discriminator's logits on the real batch and the fake batch before and after, so
    the grader can compute the true objective itself.
    """
    disc, gen = _tiny_gan(seed)
    optimizer = torch.optim.SGD(disc.parameters(), lr=0.05)
    with torch.no_grad():
        fake = gen(noise)  # (N, 8)
        before = (disc(real), disc(fake))
    for _ in range(steps):
        optimizer.zero_grad()
        loss(disc(real), disc(fake)).backward()
        optimizer.step()
    with torch.no_grad():
        after = (disc(real), disc(fake))
    return {"real_before": before[0], "fake_before": before[1], "real_after": after[0], "fake_after": after[1]}


def train_generator(loss: Callable, noise: torch.Tensor, steps: int = 30, seed: int = 0) -> dict:
    """Train a tiny generator with the student's G loss against a fixed tiny discriminator.

    Returns the discriminator's logits on the generated batch before and after.
    """
    disc, gen = _tiny_gan(seed)
    disc.requires_grad_(False)
    optimizer = torch.optim.SGD(gen.parameters(), lr=0.05)
    with torch.no_grad():
        before = disc(gen(noise))
    for _ in range(steps):
        optimizer.zero_grad()
        loss(disc(gen(noise))).backward()
        optimizer.step()
    with torch.no_grad():
        after = disc(gen(noise))
    return {"fake_before": before, "fake_after": after}


def _bce(logits: torch.Tensor, target: float) -> torch.Tensor:
    """Per-element BCE on logits, stable for any magnitude (Goodfellow et al. 2014, eq. 1 terms)."""
    return F.binary_cross_entropy_with_logits(logits.double(), torch.full_like(logits.double(), target), reduction="none")


def _bce_on_probs(probs: torch.Tensor, target: float) -> torch.Tensor:
    return F.binary_cross_entropy(probs.clamp(1e-12, 1 - 1e-12), torch.full_like(probs, target), reduction="none")


# What each loss computes, told to a student whose value matches none of the known mistakes.
DISCRIMINATOR_FORMULA = ("F.binary_cross_entropy_with_logits(logits_real, ones) + "
                         "F.binary_cross_entropy_with_logits(logits_fake, zeros), each the mean over its batch")
GENERATOR_FORMULA = "F.binary_cross_entropy_with_logits(logits_fake, ones), the mean over the batch"
LS_DISCRIMINATOR_FORMULA = "0.5 * ((scores_real - 1) ** 2).mean() + 0.5 * (scores_fake ** 2).mean()"
LS_GENERATOR_FORMULA = "0.5 * ((scores_fake - 1) ** 2).mean()"


def discriminator_candidates(real: torch.Tensor, fake: torch.Tensor) -> dict[str, float]:
    """Correct value first, then common mistakes, for the discriminator's BCE loss."""
    real, fake = real.double(), fake.double()
    return {
        "correct": (_bce(real, 1).mean() + _bce(fake, 0).mean()).item(),
        "labels swapped (real should be 1, fake 0)": (_bce(real, 0).mean() + _bce(fake, 1).mean()).item(),
        "sigmoid applied twice (the BCE-with-logits loss applies it already)": (
            _bce(torch.sigmoid(real), 1).mean() + _bce(torch.sigmoid(fake), 0).mean()).item(),
        "sum instead of mean over the batch": (_bce(real, 1).sum() + _bce(fake, 0).sum()).item(),
        "one mean over both batches instead of the sum of the two means": torch.cat(
            [_bce(real, 1), _bce(fake, 0)]).mean().item(),
        "the logits were treated as probabilities (apply no sigmoid outside, use the loss on logits)": (
            _bce_on_probs(real.clamp(0, 1), 1).mean() + _bce_on_probs(fake.clamp(0, 1), 0).mean()).item(),
    }


def generator_candidates(fake: torch.Tensor) -> dict[str, float]:
    """Correct value first, then common mistakes, for the non-saturating generator loss."""
    fake = fake.double()
    return {
        "correct": _bce(fake, 1).mean().item(),
        "the saturating loss (target 0, negated) instead of the non-saturating one (target 1)": (-_bce(fake, 0).mean()).item(),
        "target 0 instead of 1": _bce(fake, 0).mean().item(),
        "sigmoid applied twice (the BCE-with-logits loss applies it already)": _bce(torch.sigmoid(fake), 1).mean().item(),
        "sum instead of mean over the batch": _bce(fake, 1).sum().item(),
    }


def ls_discriminator_candidates(real: torch.Tensor, fake: torch.Tensor) -> dict[str, float]:
    """Least squares GAN (Mao et al. 2017, eq. 9 with a=0, b=c=1): correct value, then common mistakes."""
    real, fake = real.double(), fake.double()
    return {
        "correct": (0.5 * ((real - 1) ** 2).mean() + 0.5 * (fake**2).mean()).item(),
        "one mean over both batches instead of the two means": (0.5 * torch.cat([(real - 1) ** 2, fake**2]).mean()).item(),
        "sum instead of mean over the batch": (0.5 * (((real - 1) ** 2).sum() + (fake**2).sum())).item(),
        "the 0.5 factors are missing": (((real - 1) ** 2).mean() + (fake**2).mean()).item(),
        "targets swapped (real should go to 1, fake to 0)": (0.5 * (real**2).mean() + 0.5 * ((fake - 1) ** 2).mean()).item(),
    }


def ls_generator_candidates(fake: torch.Tensor) -> dict[str, float]:
    """Least squares generator loss 0.5 E[(D(G(z)) - 1)^2]: correct value, then common mistakes."""
    fake = fake.double()
    return {
        "correct": (0.5 * ((fake - 1) ** 2).mean()).item(),
        "sum instead of mean over the batch": (0.5 * ((fake - 1) ** 2).sum()).item(),
        "the 0.5 factor is missing": ((fake - 1) ** 2).mean().item(),
        "target 0 instead of 1": (0.5 * (fake**2).mean()).item(),
    }


SUPPORT = Support(probes={"train_discriminator": train_discriminator, "train_generator": train_generator})
