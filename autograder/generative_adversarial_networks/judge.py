"""The GAN assignment's grader side (never shipped, never imported beside student code).

- Loss candidates: the correct value and what the usual wrong losses return on the same logits (labels
  swapped, sigmoid applied twice, sum instead of mean, ...); ``vizgen references build`` stores them with
  the public cases, and the hidden checks compute them on the hidden cases' inputs.
- ``train_discriminator`` / ``train_generator``: the loops "training a tiny GAN with the student's loss
  improves the true objective" run here: the grader keeps the tiny models, asks the student's process
  for the loss and its gradient with respect to the logits (``student.differentiate``), backpropagates
  that gradient through its own model and steps; the true objective (Goodfellow et al. 2014, eq. 1) is
  computed here too.
- ``architecture``: the probe ``module_layers`` reports the student's network as layer types and
  settings plus its output on the grader's input with parameters drawn from the grader's seed; the
  chain is rebuilt here and must reproduce that output; the layer list, parameter count and output
  shape judged are the rebuilt chain's, and the engine's ``module_summary`` must agree with them.
- ``optimizer_report``: the probe ``optimizer_steps`` reports the optimizer's class and settings and the
  weights after a few steps on the grader's gradients; the reported optimizer is replayed here and
  must reproduce them (and the engine's ``optimizer_summary`` must agree).
- The update steps: the grader sends tiny players' parameters and a batch, the probe runs the student's
  step with a stand-in loss (``probes.critic_loss``) and returns the parameters after; the correct
  change, the usual mistakes' changes and the losses are computed here from the same parameters.
"""

from __future__ import annotations

import math
from itertools import pairwise
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from vizgen.author import expect_match, fail
from vizgen.author.probes import describe_layer
from vizgen.author.support import support_module

gan = support_module(Path(__file__).with_name("probes.py"))  # the probes module: builders, stand-in losses

DISCRIMINATOR_FORMULA = gan.DISCRIMINATOR_FORMULA
GENERATOR_FORMULA = gan.GENERATOR_FORMULA
LS_DISCRIMINATOR_FORMULA = gan.LS_DISCRIMINATOR_FORMULA
LS_GENERATOR_FORMULA = gan.LS_GENERATOR_FORMULA


# ----- the losses: correct values and the usual mistakes -----

def _bce(logits: torch.Tensor, target: float) -> torch.Tensor:
    """Per-element BCE on logits, stable for any magnitude (Goodfellow et al. 2014, eq. 1 terms)."""
    logits = logits.double()
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target), reduction="none")


def _bce_on_probs(probs: torch.Tensor, target: float) -> torch.Tensor:
    return F.binary_cross_entropy(probs.clamp(1e-12, 1 - 1e-12), torch.full_like(probs, target), reduction="none")


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
        "the saturating loss (target 0, negated) instead of the non-saturating one (target 1)":
            (-_bce(fake, 0).mean()).item(),
        "target 0 instead of 1": _bce(fake, 0).mean().item(),
        "sigmoid applied twice (the BCE-with-logits loss applies it already)":
            _bce(torch.sigmoid(fake), 1).mean().item(),
        "sum instead of mean over the batch": _bce(fake, 1).sum().item(),
    }


def ls_discriminator_candidates(real: torch.Tensor, fake: torch.Tensor) -> dict[str, float]:
    """Least squares GAN (Mao et al. 2017, eq. 9 with a=0, b=c=1): correct value, then common mistakes."""
    real, fake = real.double(), fake.double()
    return {
        "correct": (0.5 * ((real - 1) ** 2).mean() + 0.5 * (fake**2).mean()).item(),
        "one mean over both batches instead of the two means":
            (0.5 * torch.cat([(real - 1) ** 2, fake**2]).mean()).item(),
        "sum instead of mean over the batch": (0.5 * (((real - 1) ** 2).sum() + (fake**2).sum())).item(),
        "the 0.5 factors are missing": (((real - 1) ** 2).mean() + (fake**2).mean()).item(),
        "targets swapped (real should go to 1, fake to 0)":
            (0.5 * (real**2).mean() + 0.5 * ((fake - 1) ** 2).mean()).item(),
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


def mistakes(candidates: dict) -> dict:
    """The candidates but the correct value: what ``expect_case(..., mistakes=...)`` names."""
    return {k: v for k, v in candidates.items() if k != "correct"}


# ----- training a tiny GAN with the student's loss, in the grader -----

def tiny_gan_params(seed: int) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """The tiny players' parameters, PyTorch's default initialisation under ``seed``: D 8 -> 16 -> 1 (LeakyReLU),
    G 4 -> 16 -> 8 (ReLU, then Tanh)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        disc = nn.Sequential(nn.Linear(8, 16), nn.LeakyReLU(0.01), nn.Linear(16, 1))
        gen = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 8), nn.Tanh())
    return [p.detach().clone() for p in disc.parameters()], [p.detach().clone() for p in gen.parameters()]


def tiny_gan(seed: int) -> tuple[nn.Module, nn.Module]:
    return gan.players(*tiny_gan_params(seed))


def loss_gradients(student, function: str, *scores: torch.Tensor) -> list[torch.Tensor]:
    """d loss / d scores of the student's ``function`` at ``scores`` (computed by autograd in the student's
    process, through the student's code); fails when the loss has no gradient there."""
    sent = [s.detach().clone().requires_grad_() for s in scores]
    call = student.differentiate(function, *sent, wrt=tuple(range(len(sent))))
    names = call.params[:len(sent)]
    grads = [call.gradients.get(name) for name in names]
    if "why" in call.gradients or len(names) < len(sent) or not all(isinstance(g, torch.Tensor) for g in grads):
        fail(f"{function} returned no loss the optimizer can follow ({call.gradients.get('why', 'no gradient')}): "
             "compute it from the logits with torch operations and return the scalar tensor itself (no .item(), "
             "no .detach(), no torch.tensor(...) around it).")
    for g, s in zip(grads, scores):
        if g.shape != s.shape:
            fail(f"{function}'s gradient has shape {tuple(g.shape)} for logits of shape {tuple(s.shape)}: "
                 "return a scalar computed from the logits as given.")
    return [g.to(s.dtype) for g, s in zip(grads, scores)]


def d_objective(real: torch.Tensor, fake: torch.Tensor) -> float:
    """D's true loss: the negative of eq. 1 of Goodfellow et al. 2014, on logits."""
    return discriminator_candidates(real, fake)["correct"]


def train_discriminator(student, real: torch.Tensor, noise: torch.Tensor, steps: int = 30, seed: int = 0,
                        lr: float = 0.05) -> tuple[float, float]:
    """``steps`` SGD steps on a tiny D (the grader's) following the gradient of the student's
    ``discriminator_loss`` at D's logits, against a fixed tiny G; D's true loss before and after."""
    disc, gen = tiny_gan(seed)
    solver = torch.optim.SGD(disc.parameters(), lr=lr)
    with torch.no_grad():
        fake = gen(noise)  # (N, 8)
        before = d_objective(disc(real), disc(fake))
    for _ in range(steps):
        solver.zero_grad()
        scores_real, scores_fake = disc(real), disc(fake)  # (N, 1), (N, 1)
        torch.autograd.backward([scores_real, scores_fake],
                                loss_gradients(student, "discriminator_loss", scores_real, scores_fake))
        solver.step()
    with torch.no_grad():
        after = d_objective(disc(real), disc(fake))
    return before, after


def train_generator(student, noise: torch.Tensor, steps: int = 30, seed: int = 0,
                    lr: float = 0.05) -> tuple[float, float]:
    """``steps`` SGD steps on a tiny G (the grader's) following the gradient of the student's
    ``generator_loss`` at D's logits on G's samples, D fixed; D's mean logit on the samples before and after."""
    disc, gen = tiny_gan(seed)
    disc.requires_grad_(False)
    solver = torch.optim.SGD(gen.parameters(), lr=lr)
    with torch.no_grad():
        before = disc(gen(noise)).mean().item()
    for _ in range(steps):
        solver.zero_grad()
        scores = disc(gen(noise))  # (N, 1)
        torch.autograd.backward([scores], loss_gradients(student, "generator_loss", scores))
        solver.step()
    with torch.no_grad():
        after = disc(gen(noise)).mean().item()
    return before, after


# ----- networks: rebuilt from the probe's report, cross-checked with module_summary -----

def rebuilt_summary(record: dict, name: str, x: torch.Tensor, seed: int) -> dict:
    """What the checks judge about a network: its layers, parameter count and output shape, taken from the
    chain rebuilt here from the ``module_layers`` report; fails when that chain does not reproduce the
    output the student's network gave on ``x`` with the same parameters (a report that is not the network)."""
    if not record["is_module"]:
        return {"is_module": False, "type": record["type"]}
    if record["outside"]:
        fail(f"{name} holds {record['outside']:,} parameter values outside its layers: build it as an "
             "nn.Sequential of the notebook's layers, one module per layer.")
    chain = gan.rebuild_chain(record, seed)
    if isinstance(chain, str):
        fail(f"{name}'s {chain}: build it from the layers the notebook names, one module per layer.")
    output, error = None, ""
    try:
        with torch.no_grad():
            output = chain(x)
    except Exception as exc:  # noqa: BLE001 - a wrong architecture fails here; report why
        error = f"{type(exc).__name__}: {exc}"[:300]
    got = record["output"]
    same = (output is None and got is None) or (
        isinstance(output, torch.Tensor) and isinstance(got, torch.Tensor) and output.shape == got.shape
        and torch.allclose(got.double(), output.double(), atol=1e-5, rtol=1e-4))
    if not same:
        fail(f"{name}'s output is not what its layers compute one after the other: return an nn.Sequential of "
             "the notebook's layers, one module per layer, with no forward of your own.")
    return {"is_module": True, "type": record["type"], "layers": [describe_layer(m) for m in chain],
            "parameters": sum(p.numel() for p in chain.parameters()),
            "output_shape": tuple(output.shape) if output is not None else (), "output_error": error, "chain": chain,
            "output": output}


def architecture(student, function: str, *args, x: torch.Tensor, seed: int, name: str) -> dict:
    """The rebuilt summary of the network ``function(*args)`` builds (``rebuilt_summary``), after checking that
    the engine's ``module_summary`` of it reports the same layer types, parameter count and output shape."""
    record = student.probe("module_layers", function, *args, seed=seed, x=x).value
    summary = rebuilt_summary(record, name, x, seed)
    if not summary["is_module"]:
        return summary
    reported = student.probe("module_summary", function, *args, input_shape=tuple(x.shape)).value
    distinct = [type(m).__name__ for m in summary["chain"].modules() if not list(m.children())]
    agrees = (reported.get("is_module") and [str(s).split("(")[0] for s in reported["layers"]] == distinct
              and reported["parameters"] == summary["parameters"]
              and (not reported["output_shape"] or not summary["output_shape"]
                   or tuple(reported["output_shape"]) == summary["output_shape"]))
    if not agrees:
        fail(f"{name}'s summary (layers, parameter count, output shape) is not the network it builds: return the "
             "nn.Sequential itself, and build it from the notebook's layers.")
    return summary


# ----- the optimizer: replayed from its report, cross-checked with optimizer_summary -----

def optimizer_inputs(seed: int, sizes: tuple[int, ...] = (7, 2, 3), steps: int = 3) -> tuple[list, list]:
    """Weights of Linear layers ``sizes[0] -> sizes[1] -> ...`` and ``steps`` gradients for them, from ``seed``."""
    generator = torch.Generator().manual_seed(seed)
    shapes = [s for a, b in pairwise(sizes) for s in ((b, a), (b,))]
    weights = [torch.randn(s, generator=generator) * 0.5 for s in shapes]
    grads = [[torch.randn(s, generator=generator) for s in shapes] for _ in range(steps)]
    return weights, grads


def optimizer_report(student, weights: list, grads: list) -> dict:
    """The ``optimizer_steps`` report of the student's ``get_optimizer`` on the grader's weights and gradients,
    after checking that the reported optimizer, replayed here, takes the reported steps, and that the engine's
    ``optimizer_summary`` agrees with it; with ``covered`` and ``lr`` / ``betas`` of the first group."""
    report = student.probe("optimizer_steps", "get_optimizer", weights, grads).value
    if not report["is_optimizer"]:
        return report
    replayed = gan.replay_optimizer(report, weights, grads)
    if isinstance(replayed, str):
        fail(f"get_optimizer returned {replayed}: return torch.optim.Adam(model.parameters(), ...) itself.")
    if len(replayed) != len(report["trajectory"]) or not all(
            a.shape == b.shape and torch.allclose(a, b, atol=1e-7, rtol=1e-5)
            for a, b in zip(replayed, report["trajectory"])):
        fail(f"get_optimizer's optimizer does not step as a torch.optim.{report['type']} with its settings does: "
             "return the torch.optim optimizer itself, unmodified.")
    report = {**report, **gan.optimizer_facts(report)}
    summary = student.probe("optimizer_summary", "get_optimizer", (weights[0].shape[1], weights[0].shape[0])).value
    agrees = (summary.get("is_optimizer") and summary["type"] == report["type"]
              and abs(summary["lr"] - report["lr"]) <= 1e-12 and tuple(summary["betas"]) == tuple(report["betas"])
              and (summary["covered"] == summary["total"]) == (report["covered"] == report["total"]))
    if not agrees:
        fail("get_optimizer's summary (type, lr, betas, parameters covered) is not the optimizer it returns: return "
             "torch.optim.Adam(model.parameters(), ...) itself.")
    return report


# ----- the update steps: the correct change and the usual mistakes, from the same parameters -----

def _as_players(d_params, g_params, d_flat=None, g_flat=None):
    """The players, with D's (or G's) parameters replaced by a flat vector when given."""
    disc, gen = gan.players(d_params, g_params)
    for model, values in ((disc, d_flat), (gen, g_flat)):
        if values is not None:
            with torch.no_grad():
                offset = 0
                for p in model.parameters():
                    p.copy_(values[offset:offset + p.numel()].view_as(p))
                    offset += p.numel()
    return disc, gen


def discriminator_steps(d_params, g_params, real, z, lr: float, steps: int = 1, stale: float | None = None,
                        zero: bool = True, swap: bool = False) -> tuple[torch.Tensor, list[float]]:
    """D's parameters after ``steps`` steps on the critic loss (with ``zero_grad`` or not, its arguments swapped
    or not), and the loss of each step before it."""
    disc, gen = gan.players(d_params, g_params)
    if stale is not None:
        gan.fill_stale(disc, stale)
    solver = torch.optim.SGD(disc.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        scores_real, scores_fake = disc(real), disc(gen(z).detach())
        loss = gan.critic_loss(scores_fake, scores_real) if swap else gan.critic_loss(scores_real, scores_fake)
        if zero:
            solver.zero_grad()
        loss.backward()
        solver.step()
        losses.append(float(loss.detach()))
    return gan.flat(disc), losses


def generator_steps(d_params, g_params, z, lr: float, steps: int = 1, stale: float | None = None,
                    zero: bool = True) -> tuple[torch.Tensor, list[float]]:
    """G's parameters after ``steps`` steps on the critic's generator loss, and the loss of each step before it."""
    disc, gen = gan.players(d_params, g_params)
    if stale is not None:
        gan.fill_stale(gen, stale)
    solver = torch.optim.SGD(gen.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        loss = gan.critic_generator_loss(disc(gen(z)))
        if zero:
            solver.zero_grad()
        loss.backward()
        solver.step()
        losses.append(float(loss.detach()))
    return gan.flat(gen), losses


D_STEP_FORMULA = ("one D_solver.step() on discriminator_loss(D(x), D(G(z).detach())) after D_solver.zero_grad(), "
                  "with the loss function passed in, real scores first")
G_STEP_FORMULA = ("one G_solver.step() on generator_loss(D(G(z))) after G_solver.zero_grad(), with the loss "
                  "function passed in and fresh fakes G(z) fed through D")
STALE_D = "no D_solver.zero_grad() before backward (in training, G's step leaves gradients in D)"
SWAPPED_D = "the loss's arguments are swapped (D's scores on the real images x first, on the fakes second)"
STALE_G = "no G_solver.zero_grad() before backward (the old gradients were added to the new ones)"


def discriminator_step_expectations(d_params, g_params, real, z, lr: float, stale: float) -> dict:
    """The change of D's parameters one correct step makes, the usual mistakes' changes, and the loss."""
    start = torch.cat([p.flatten() for p in d_params])
    after, losses = discriminator_steps(d_params, g_params, real, z, lr, stale=stale)
    return {"start_d": start, "start_g": torch.cat([p.flatten() for p in g_params]), "change": after - start,
            "mistakes": {
                STALE_D: discriminator_steps(d_params, g_params, real, z, lr, stale=stale, zero=False)[0] - start,
                SWAPPED_D: discriminator_steps(d_params, g_params, real, z, lr, stale=stale, swap=True)[0] - start},
            "loss": losses[0]}


def generator_step_expectations(d_params, g_params, z, lr: float, stale: float) -> dict:
    start = torch.cat([p.flatten() for p in g_params])
    after, losses = generator_steps(d_params, g_params, z, lr, stale=stale)
    return {"start_d": torch.cat([p.flatten() for p in d_params]), "start_g": start, "change": after - start,
            "mistakes": {STALE_G: generator_steps(d_params, g_params, z, lr, stale=stale, zero=False)[0] - start},
            "loss": losses[0]}


def _expect_returned_loss(losses: list, want: float, function: str, advice: str) -> None:
    got = losses[0] if losses else float("nan")
    if math.isnan(got):  # not a scalar tensor
        fail(f"{function} returned no scalar loss tensor: {advice}.")
    if not abs(got - want) <= 1e-5 * max(1.0, abs(want)):
        fail(f"{function} returned the loss {got:.6g}; expected {want:.6g}: {advice}.")


def expect_discriminator_step(summary: dict, expected: dict) -> None:
    """One student D step (the probe's report) against the expectations computed here."""
    if summary["g_grad"] > 0:
        fail("discriminator_step gave G's parameters gradients: detach the fakes (G(z).detach()) so that "
             "D's step trains D only.")
    if not torch.equal(summary["g_after"], expected["start_g"]):
        fail("discriminator_step changed G's parameters: step only D_solver in D's step.")
    change = summary["d_after"] - expected["start_d"]
    if change.abs().max() == 0:
        fail("D's parameters did not change: call loss.backward() and then D_solver.step().")
    expect_match(change, expected["change"], expected["mistakes"], "D's parameter change after one discriminator_step",
                 D_STEP_FORMULA, atol=1e-6, rtol=1e-4)
    _expect_returned_loss(summary["losses"], expected["loss"], "discriminator_step",
                          "return (loss, scores_real, scores_fake) with the loss computed before the step")


def expect_generator_step(summary: dict, expected: dict) -> None:
    """One student G step (the probe's report) against the expectations computed here."""
    change = summary["g_after"] - expected["start_g"]
    if change.abs().max() == 0:
        fail("G's parameters did not change: do not detach G(z) in G's step (the gradient must flow "
             "through D into G), and call G_solver.step() after backward.")
    if not torch.equal(summary["d_after"], expected["start_d"]):
        fail("generator_step changed D's parameters: step only G_solver in G's step.")
    expect_match(change, expected["change"], expected["mistakes"], "G's parameter change after one generator_step",
                 G_STEP_FORMULA, atol=1e-6, rtol=1e-4)
    _expect_returned_loss(summary["losses"], expected["loss"], "generator_step",
                          "return the loss computed before the step")


def critic_loss_at(d_params, g_params, real, z, d_flat) -> float:
    """The critic loss of D with parameters ``d_flat`` (the student's, after the steps), computed here."""
    disc, gen = _as_players(d_params, g_params, d_flat=d_flat)
    with torch.no_grad():
        return float(gan.critic_loss(disc(real), disc(gen(z))))


def non_saturating_loss_at(d_params, g_params, z, g_flat) -> float:
    """G's non-saturating loss -log D(G(z)) with G's parameters ``g_flat``, computed here."""
    disc, gen = _as_players(d_params, g_params, g_flat=g_flat)
    with torch.no_grad():
        return generator_candidates(disc(gen(z)))["correct"]
