"""Public checks: noise, GAN losses (Goodfellow et al. 2014; Mao et al. 2017) and the optimizer.

The losses are compared with the solution's values stored in ``references.pt`` (with the usual mistakes'
values on the same logits). The optimizer is judged by what it does: the probe ``optimizer_steps`` takes
three steps with it on gradients chosen here, and the optimizer it reports (class and settings) is
replayed here and must take the same steps.
"""

import torch

from vizgen.author import (ReferenceCase, assignment_probes, check, expect_case, expect_dtype, expect_shape,
                           expect_tensor, fail)

gan = assignment_probes(__file__)  # autograder/generative_adversarial_networks/probes.py

REAL = torch.tensor([[2.0], [-1.0], [0.5]])  # (N, 1) logits on real images
FAKE = torch.tensor([[0.5], [-3.0], [1.5]])  # (N, 1) logits on generated images

WHY_BCE = "float32 BCE on small logits: stable formulations agree to ~1e-7 relative."
WHY_SQUARES = "float32 means of squares: summation order only (~1e-7 relative)."
PUBLIC_CASES = [
    ReferenceCase("d_loss_by_hand", "discriminator_loss", lambda: ([REAL, FAKE], {}), atol=1e-5, rtol=1e-4,
                  why=WHY_BCE, mistakes="discriminator_candidates"),
    ReferenceCase("g_loss_by_hand", "generator_loss", lambda: ([FAKE], {}), atol=1e-5, rtol=1e-4,
                  why=WHY_BCE, mistakes="generator_candidates"),
    ReferenceCase("ls_d_loss_by_hand", "ls_discriminator_loss", lambda: ([REAL, FAKE], {}), atol=1e-5, rtol=1e-4,
                  why=WHY_SQUARES, mistakes="ls_discriminator_candidates"),
    ReferenceCase("ls_g_loss_by_hand", "ls_generator_loss", lambda: ([FAKE], {}), atol=1e-5, rtol=1e-4,
                  why=WHY_SQUARES, mistakes="ls_generator_candidates"),
]


@check(points=1, function="sample_noise")
def test_noise_shape_and_range(student):
    """returns float32 (batch_size, dim) noise inside [-1, 1]"""
    noise = expect_tensor(student.sample_noise(1000, 7).value, "noise")
    expect_shape(noise, (1000, 7), "noise", hint="return one row of `dim` numbers per sample")
    expect_dtype(noise, torch.float32, "noise")
    if noise.min() < -1 or noise.max() > 1:
        fail(f"noise spans [{noise.min():.3g}, {noise.max():.3g}]; expected inside [-1, 1]: "
             "map torch.rand's [0, 1) to [-1, 1) with 2 * u - 1.")


@check(points=1, function="discriminator_loss")
def test_discriminator_loss_by_hand(student, reference):
    """equals mean BCE(real, 1) + mean BCE(fake, 0) on small logits"""
    case = reference.case("d_loss_by_hand")
    expect_case(student.discriminator_loss(*case.args).value, case, "the discriminator loss", gan.DISCRIMINATOR_FORMULA,
                scalar=True)


@check(points=1, function="generator_loss")
def test_generator_loss_by_hand(student, reference):
    """equals mean BCE(fake, 1), the non-saturating loss"""
    case = reference.case("g_loss_by_hand")
    expect_case(student.generator_loss(*case.args).value, case, "the generator loss", gan.GENERATOR_FORMULA,
                scalar=True)


@check(points=1, function="ls_discriminator_loss")
def test_ls_discriminator_loss_by_hand(student, reference):
    """equals 0.5 E[(D(x) - 1)^2] + 0.5 E[D(G(z))^2]"""
    case = reference.case("ls_d_loss_by_hand")
    expect_case(student.ls_discriminator_loss(*case.args).value, case, "the least squares discriminator loss",
                gan.LS_DISCRIMINATOR_FORMULA, scalar=True)


@check(points=1, function="ls_generator_loss")
def test_ls_generator_loss_by_hand(student, reference):
    """equals 0.5 E[(D(G(z)) - 1)^2]"""
    case = reference.case("ls_g_loss_by_hand")
    expect_case(student.ls_generator_loss(*case.args).value, case, "the least squares generator loss",
                gan.LS_GENERATOR_FORMULA, scalar=True)


def _optimizer_inputs() -> tuple[list, list]:
    """nn.Linear(4, 3)'s weight and bias, and three steps' gradients for them."""
    generator = torch.Generator().manual_seed(7)
    weights = [torch.randn(3, 4, generator=generator) * 0.5, torch.randn(3, generator=generator) * 0.5]
    grads = [[torch.randn(3, 4, generator=generator), torch.randn(3, generator=generator)] for _ in range(3)]
    return weights, grads


@check(points=1, function="get_optimizer")
def test_optimizer_settings(student):
    """is Adam with lr 1e-3 and betas (0.5, 0.999) over all the model's parameters"""
    weights, grads = _optimizer_inputs()
    report = student.probe("optimizer_steps", "get_optimizer", weights, grads).value
    if not report["is_optimizer"]:
        fail(f"get_optimizer returned a {report['type']}; expected a torch.optim.Adam.")
    replayed = gan.replay_optimizer(report, weights, grads)
    if isinstance(replayed, str):
        fail(f"get_optimizer returned {replayed}: return a torch.optim.Adam.")
    if len(replayed) != len(report["trajectory"]) or not all(
            a.shape == b.shape and torch.allclose(a, b, atol=1e-7, rtol=1e-5)
            for a, b in zip(replayed, report["trajectory"])):
        fail(f"get_optimizer's optimizer does not step as a torch.optim.{report['type']} with its settings does: "
             "return the torch.optim optimizer itself, unmodified.")
    facts = gan.optimizer_facts(report)
    if report["type"] != "Adam":
        fail(f"get_optimizer made {report['type']}; expected Adam.")
    if abs(facts["lr"] - 1e-3) > 1e-12 or facts["betas"] != (0.5, 0.999):
        fail(f"Adam has lr={facts['lr']:g}, betas={facts['betas']}; expected lr=1e-3, betas=(0.5, 0.999).")
    if facts["covered"] != report["total"]:
        fail(f"the optimizer updates {facts['covered']} of {report['total']} parameter tensors: "
             "pass model.parameters().")
