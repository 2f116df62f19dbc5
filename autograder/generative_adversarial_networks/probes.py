"""The GAN assignment's support (see ``vizgen.author.support``): its probes and its diagnostics.

Probes: ``train_discriminator`` and ``train_generator`` train a tiny GAN with the student's loss
next to the student's code and return logits before and after, so the checks can compute the
true objective in the grader. Diagnostics: the grader computes what the usual wrong losses would
return on the same logits (labels swapped, sigmoid applied twice, sum instead of mean, ...) and
says which one the student's value matches.
"""

from __future__ import annotations

import copy
import math
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from vizgen.author.expect import expect_tensor, fail
from vizgen.author.messages import CheckFailure
from vizgen.author.expect import expect_loss, expect_reference_loss, likely_bug  # noqa: F401 - used by the checks
from vizgen.author.support import Support


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


# The update steps students write (issue 8): Probes for the GAN's update steps: the student's ``discriminator_step`` / ``generator_step`` train
# tiny models next to the student's code, and the grader judges the result.
#
# A step cannot cross the process boundary (it changes modules and an optimizer in place), so each
# probe builds a tiny discriminator and generator (``probes._tiny_gan``), fills the stepped player's
# ``.grad`` with stale values (as the other player's step leaves them in training), runs the student's
# step, and returns plain data: how each player's parameters moved, what the correct step and the
# usual mistakes (no ``zero_grad``) would have moved them by, gradients that leaked into the other
# player (a missing ``detach``), the returned loss, and D's logits before and after several steps so
# that the grader computes the true objective (Goodfellow et al. 2014, eq. 1) itself. The losses
# passed in are the grader's own, so a wrong loss elsewhere does not spoil these checks.

STALE = 0.5  # the value each stale .grad holds before the step: far from any fresh gradient here


def _d_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Goodfellow et al. 2014, eq. 1, negated: mean BCE(real, 1) + mean BCE(fake, 0), on logits."""
    return (F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
            + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)))


def _g_loss(fake: torch.Tensor) -> torch.Tensor:
    """The non-saturating generator loss (Goodfellow et al. 2014, Sec. 3): mean BCE(fake, 1)."""
    return F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake))


def _flat(model: nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in model.parameters()]).clone()  # (P,)


def _grad_mass(model: nn.Module) -> float:
    return float(sum(p.grad.abs().sum() for p in model.parameters() if p.grad is not None))


def _fill_stale(model: nn.Module) -> None:
    for p in model.parameters():
        p.grad = torch.full_like(p, STALE)


def _correct_change(model: nn.Module, lr: float, backward: Callable[[nn.Module], None], zero: bool) -> torch.Tensor:
    """What one SGD step moves ``model``'s copy by: ``backward(copy)`` fills gradients, after a
    ``zero_grad`` or on top of the stale ones."""
    twin = copy.deepcopy(model)
    for mine, theirs in zip(twin.parameters(), model.parameters()):  # deepcopy leaves .grad behind
        mine.grad = None if theirs.grad is None else theirs.grad.clone()
    solver = torch.optim.SGD(twin.parameters(), lr=lr)
    before = _flat(twin)
    if zero:
        solver.zero_grad()
    backward(twin)
    solver.step()
    return _flat(twin) - before  # (P,)


def _loss_value(result) -> float:
    first = result[0] if isinstance(result, (tuple, list)) and result else result
    if isinstance(first, torch.Tensor) and first.numel() == 1:
        return float(first.detach())
    return float("nan")


def discriminator_step_probe(step: Callable, seed: int = 0, batch: int = 16, lr: float = 0.1,
                             train_steps: int = 20) -> dict:
    """One student discriminator step on tiny models (changes judged against the correct step), then
    ``train_steps`` more from fresh models, with D's logits before and after."""

    disc, gen = _tiny_gan(seed)
    data = torch.Generator().manual_seed(seed + 1)
    real, z = torch.randn(batch, 8, generator=data) + 1.0, torch.rand(batch, 4, generator=data) * 2 - 1  # (B, 8), (B, 4)
    _fill_stale(disc)
    fake = gen(z).detach()  # (B, 8), for the grader's own step
    expected = _correct_change(disc, lr, lambda d: _d_loss(d(real), d(fake)).backward(), zero=True)
    stale = _correct_change(disc, lr, lambda d: _d_loss(d(real), d(fake)).backward(), zero=False)
    with torch.no_grad():
        want_loss = float(_d_loss(disc(real), disc(fake)))
    d_before, g_before = _flat(disc), _flat(gen)
    result = step(disc, gen, torch.optim.SGD(disc.parameters(), lr=lr), _d_loss, real, z)
    summary = {
        "d_change": _flat(disc) - d_before, "expected_change": expected, "stale_change": stale,
        "g_change": float((_flat(gen) - g_before).abs().max()), "g_grad": _grad_mass(gen),
        "loss": _loss_value(result), "expected_loss": want_loss,
    }
    disc, gen = _tiny_gan(seed + 100)
    solver = torch.optim.SGD(disc.parameters(), lr=lr)
    with torch.no_grad():
        summary["real_before"], summary["fake_before"] = disc(real), disc(gen(z))  # (B, 1), (B, 1)
    for _ in range(train_steps):
        step(disc, gen, solver, _d_loss, real, z)
    with torch.no_grad():
        summary["real_after"], summary["fake_after"] = disc(real), disc(gen(z))  # (B, 1), (B, 1)
    return summary


def generator_step_probe(step: Callable, seed: int = 0, batch: int = 16, lr: float = 0.1, train_steps: int = 20) -> dict:
    """One student generator step on tiny models (judged against the correct step), then
    ``train_steps`` more from fresh models, with D's logits on G's samples before and after."""

    disc, gen = _tiny_gan(seed)
    z = torch.rand(batch, 4, generator=torch.Generator().manual_seed(seed + 2)) * 2 - 1  # (B, 4)
    _fill_stale(gen)
    expected = _correct_change(gen, lr, lambda g: _g_loss(disc(g(z))).backward(), zero=True)
    stale = _correct_change(gen, lr, lambda g: _g_loss(disc(g(z))).backward(), zero=False)
    disc.zero_grad(set_to_none=True)  # the grader's own steps above leave D's .grad filled
    with torch.no_grad():
        want_loss = float(_g_loss(disc(gen(z))))
    d_before, g_before = _flat(disc), _flat(gen)
    result = step(disc, gen, torch.optim.SGD(gen.parameters(), lr=lr), _g_loss, z)
    summary = {
        "g_change": _flat(gen) - g_before, "expected_change": expected, "stale_change": stale,
        "d_change": float((_flat(disc) - d_before).abs().max()), "loss": _loss_value(result), "expected_loss": want_loss,
    }
    disc, gen = _tiny_gan(seed + 100)
    solver = torch.optim.SGD(gen.parameters(), lr=lr)
    with torch.no_grad():
        summary["fake_before"] = disc(gen(z))  # (B, 1)
    for _ in range(train_steps):
        step(disc, gen, solver, _g_loss, z)
    with torch.no_grad():
        summary["fake_after"] = disc(gen(z))  # (B, 1)
    return summary


def _moved_like(change: torch.Tensor, target: torch.Tensor) -> bool:
    return bool(torch.allclose(change, target, atol=1e-6, rtol=1e-4))


def _expect_returned_loss(summary: dict, function: str, advice: str) -> None:
    """The step returned the loss it stepped on (relative tolerance 1e-5); else ``advice``."""
    if not abs(summary["loss"] - summary["expected_loss"]) <= 1e-5 * max(1.0, abs(summary["expected_loss"])):
        fail(f"{function} returned the loss {summary['loss']:.6g}; expected {summary['expected_loss']:.6g}: {advice}.")


def judge_discriminator_step(summary: dict) -> None:
    """In the grader: fail with the named mistake when the student's single D step was not the correct one."""

    if summary["g_grad"] > 0:
        fail("discriminator_step gave G's parameters gradients: detach the fakes (G(z).detach()) so that "
             "D's step trains D only.")
    if summary["g_change"] > 0:
        fail("discriminator_step changed G's parameters: step only D_solver in D's step.")
    change = summary["d_change"]
    if change.abs().max() == 0:
        fail("D's parameters did not change: call loss.backward() and then D_solver.step().")
    if _moved_like(change, summary["stale_change"]):
        fail("D's step added stale gradients (likely bug: no D_solver.zero_grad() before backward; in "
             "training, G's step leaves gradients in D).")
    if not _moved_like(change, summary["expected_change"]):
        fail("D's update is not one optimizer step on discriminator_loss(D(x), D(G(z).detach())): use the "
             "loss function passed in, real images x for the first argument and fakes for the second.")
    _expect_returned_loss(summary, "discriminator_step", "return the loss computed before the step, first")


def judge_generator_step(summary: dict) -> None:
    """In the grader: fail with the named mistake when the student's single G step was not the correct one."""

    change = summary["g_change"]
    if change.abs().max() == 0:
        fail("G's parameters did not change: do not detach G(z) in G's step (the gradient must flow "
             "through D into G), and call G_solver.step() after backward.")
    if summary["d_change"] > 0:
        fail("generator_step changed D's parameters: step only G_solver in G's step.")
    if _moved_like(change, summary["stale_change"]):
        fail("G's step added stale gradients (likely bug: no G_solver.zero_grad() before backward).")
    if not _moved_like(change, summary["expected_change"]):
        fail("G's update is not one optimizer step on generator_loss(D(G(z))): feed fresh fakes G(z) "
             "through D and use the loss function passed in.")
    _expect_returned_loss(summary, "generator_step", "return the loss computed before the step")


SUPPORT = Support(probes={
    "train_discriminator": train_discriminator,
    "train_generator": train_generator,
    "discriminator_step": discriminator_step_probe,
    "generator_step": generator_step_probe,
})
