"""Public checks: noise, GAN losses (Goodfellow et al. 2014; Mao et al. 2017) and the optimizer."""

import torch

from vizgen.author.expect import expect_dtype, expect_shape, expect_tensor, fail
from vizgen.author.checks import check
from vizgen.author.support import assignment_probes

gan = assignment_probes(__file__)  # autograder/generative_adversarial_networks/probes.py: probes, diagnostics

REAL = torch.tensor([[2.0], [-1.0], [0.5]])  # (N, 1) logits on real images
FAKE = torch.tensor([[0.5], [-3.0], [1.5]])  # (N, 1) logits on generated images


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
def test_discriminator_loss_by_hand(student):
    """equals mean BCE(real, 1) + mean BCE(fake, 0) on small logits"""
    value = student.discriminator_loss(REAL, FAKE).value
    gan.expect_loss(value, gan.discriminator_candidates(REAL, FAKE), "the discriminator loss", gan.DISCRIMINATOR_FORMULA)


@check(points=1, function="generator_loss")
def test_generator_loss_by_hand(student):
    """equals mean BCE(fake, 1), the non-saturating loss"""
    gan.expect_loss(student.generator_loss(FAKE).value, gan.generator_candidates(FAKE), "the generator loss",
                    gan.GENERATOR_FORMULA)


@check(points=1, function="ls_discriminator_loss")
def test_ls_discriminator_loss_by_hand(student):
    """equals 0.5 E[(D(x) - 1)^2] + 0.5 E[D(G(z))^2]"""
    value = student.ls_discriminator_loss(REAL, FAKE).value
    gan.expect_loss(value, gan.ls_discriminator_candidates(REAL, FAKE), "the least squares discriminator loss",
                    gan.LS_DISCRIMINATOR_FORMULA)


@check(points=1, function="ls_generator_loss")
def test_ls_generator_loss_by_hand(student):
    """equals 0.5 E[(D(G(z)) - 1)^2]"""
    gan.expect_loss(student.ls_generator_loss(FAKE).value, gan.ls_generator_candidates(FAKE),
                    "the least squares generator loss", gan.LS_GENERATOR_FORMULA)


@check(points=1, function="get_optimizer")
def test_optimizer_settings(student):
    """is Adam with lr 1e-3 and betas (0.5, 0.999) over all the model's parameters"""
    summary = student.probe("optimizer_summary", "get_optimizer").value
    if not summary["is_optimizer"]:
        fail(f"get_optimizer returned a {summary['type']}; expected a torch.optim.Adam.")
    if summary["type"] != "Adam":
        fail(f"get_optimizer made {summary['type']}; expected Adam.")
    if abs(summary["lr"] - 1e-3) > 1e-12 or summary["betas"] != (0.5, 0.999):
        fail(f"Adam has lr={summary['lr']:g}, betas={summary['betas']}; expected lr=1e-3, betas=(0.5, 0.999).")
    if summary["covered"] != summary["total"]:
        fail(f"the optimizer updates {summary['covered']} of {summary['total']} parameter tensors: "
             "pass model.parameters().")
