"""Hidden checks: noise statistics, large logits, training runs, exact architectures.

The training runs happen here, in the grader (``judge.train_discriminator`` / ``train_generator``): the
student's loss only reports its value and its gradient at the grader's logits. The architectures are
rebuilt here from the probe's report (``judge.architecture``) and the optimizer is replayed here
(``judge.optimizer_report``).
"""

import numpy as np
import torch

from vizgen.author import (ReferenceCase, assignment_judge, check, expect_case, expect_distribution, expect_module,
                           expect_tensor, fail)
from vizgen.author.expect import output_figure

judge = assignment_judge(__file__)  # autograder/generative_adversarial_networks/judge.py: grader side only


def _large_logits():
    generator = torch.Generator().manual_seed(21)
    real = torch.cat([torch.tensor([[100.0], [-100.0], [40.0]]), torch.randn(61, 1, generator=generator) * 20])
    fake = torch.cat([torch.tensor([[-100.0], [100.0], [-40.0]]), torch.randn(29, 1, generator=generator) * 20])
    return real, fake  # (64, 1) and (32, 1): different batch sizes catch one mean over both


def _d_inputs():
    return list(_large_logits()), {}


def _g_inputs():
    return [_large_logits()[1]], {}


def _ls_inputs():
    real, fake = _large_logits()
    return [real / 20, fake / 20], {}


REFERENCE_CASES = [
    ReferenceCase("d_loss_large_logits", "discriminator_loss", _d_inputs, atol=1e-4, rtol=1e-5,
                  why="float32 BCE on logits up to |100|: stable formulations agree to ~1e-6 relative."),
    ReferenceCase("g_loss_large_logits", "generator_loss", _g_inputs, atol=1e-4, rtol=1e-5,
                  why="float32 BCE on logits up to |100|: stable formulations agree to ~1e-6 relative."),
    ReferenceCase("ls_d_loss", "ls_discriminator_loss", _ls_inputs, atol=1e-5, rtol=1e-5,
                  why="float32 means of squares; summation order only (~1e-7 relative)."),
    ReferenceCase("ls_g_loss", "ls_generator_loss", lambda: ([_ls_inputs()[0][1]], {}), atol=1e-5, rtol=1e-5,
                  why="float32 means of squares; summation order only (~1e-7 relative)."),
]

SEED = 41  # the parameters the architecture probe and the rebuilt chain draw


def _batch(*shape: int) -> torch.Tensor:
    return torch.rand(*shape, generator=torch.Generator().manual_seed(42)) * 2 - 1


@check(points=1, function="sample_noise")
def test_noise_is_uniform_and_fresh(student):
    """over 200,000 draws the noise follows U[-1, 1] (a goodness-of-fit test), and two calls differ"""
    first = expect_tensor(student.sample_noise(20_000, 10).value, "noise").double()
    second = expect_tensor(student.sample_noise(20_000, 10).value, "noise").double()
    if torch.equal(first, second):
        fail("two calls returned the same noise: do not seed inside sample_noise.")
    expect_distribution(first, lambda x: np.clip((x + 1) / 2, 0.0, 1.0), "the noise", "U[-1, 1]",
                        "use 2 * torch.rand(...) - 1, not torch.randn")


@check(points=1, function="discriminator")
def test_discriminator_layers(student):
    """has exactly the layers of the specification, in order"""
    summary = judge.architecture(student, "discriminator", x=_batch(3, 784), seed=SEED, name="discriminator()")
    expect_module(summary, "discriminator()", layers=[
        "Flatten(start_dim=1, end_dim=-1)", "Linear(in_features=784, out_features=256)",
        "LeakyReLU(negative_slope=0.01)",
        "Linear(in_features=256, out_features=256)", "LeakyReLU(negative_slope=0.01)",
        "Linear(in_features=256, out_features=1)"])


@check(points=1, function="generator")
def test_generator_layers_and_noise_dim(student):
    """follows the specification for another noise_dim, ending in Tanh"""
    summary = judge.architecture(student, "generator", 16, x=_batch(3, 16), seed=SEED, name="generator(16)")
    expect_module(summary, "generator(16)", output_shape=(3, 784), layers=[
        "Linear(in_features=16, out_features=1024)", "ReLU()", "Linear(in_features=1024, out_features=1024)", "ReLU()",
        "Linear(in_features=1024, out_features=784)", "Tanh()"],
        figure=output_figure(summary.get("output"), 28, -1, 1, "your images"))


@check(points=1, function="discriminator_loss")
def test_discriminator_loss_large_logits(student, reference):
    """is right and finite for logits as large as |100|, with different batch sizes"""
    case = reference.case("d_loss_large_logits")
    expect_case(student.discriminator_loss(*case.args).value, case, "the discriminator loss",
                judge.DISCRIMINATOR_FORMULA, scalar=True,
                mistakes=judge.mistakes(judge.discriminator_candidates(*case.args)))


@check(points=1, function="discriminator_loss")
def test_discriminator_loss_trains_the_discriminator(student):
    """minimising it makes a discriminator better at telling real from fake"""
    generator = torch.Generator().manual_seed(22)
    real, noise = torch.randn(64, 8, generator=generator) + 1.0, torch.rand(64, 4, generator=generator) * 2 - 1
    before, after = judge.train_discriminator(student, real, noise)  # D's true loss, computed here
    if not after < 0.9 * before:
        fail(
            f"30 SGD steps on your loss moved the true discriminator objective from {before:.3f} to {after:.3f} "
            "(it should fall): real images need target 1 and fakes target 0."
        )


@check(points=1, function="generator_loss")
def test_generator_loss_large_logits(student, reference):
    """is right and finite for logits as large as |100|"""
    case = reference.case("g_loss_large_logits")
    expect_case(student.generator_loss(*case.args).value, case, "the generator loss", judge.GENERATOR_FORMULA,
                scalar=True,
                mistakes=judge.mistakes(judge.generator_candidates(*case.args)))


@check(points=1, function="generator_loss")
def test_generator_loss_fools_the_discriminator(student):
    """minimising it makes the discriminator score generated samples as more real"""
    noise = torch.rand(64, 4, generator=torch.Generator().manual_seed(23)) * 2 - 1
    before, after = judge.train_generator(student, noise)  # D's mean logit on the fakes, computed here
    if not after > before:
        fail(
            f"training the generator on your loss moved D's mean logit on fakes from {before:.3f} to {after:.3f} "
            "(it should rise): the non-saturating loss is BCE(D(G(z)), 1)."
        )


@check(points=1, function="get_optimizer")
def test_optimizer_covers_every_parameter(student):
    """is an Adam that updates every parameter of another model (lr and betas: the public check)"""
    summary = judge.optimizer_report(student, *judge.optimizer_inputs(seed=43))
    if not summary["is_optimizer"] or summary["type"] != "Adam" or summary["covered"] != summary["total"]:
        fail(
            f"get_optimizer gave {summary['type']} over {summary.get('covered', 0)} of {summary.get('total', 4)} "
            "parameter tensors: return torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.5, 0.999))."
        )


@check(points=1, function="ls_discriminator_loss")
def test_ls_discriminator_loss_reference(student, reference):
    """matches the reference with real and fake batches of different sizes"""
    case = reference.case("ls_d_loss")
    expect_case(student.ls_discriminator_loss(*case.args).value, case, "the least squares discriminator loss",
                judge.LS_DISCRIMINATOR_FORMULA, scalar=True,
                mistakes=judge.mistakes(judge.ls_discriminator_candidates(*case.args)))


@check(points=1, function="ls_generator_loss")
def test_ls_generator_loss_reference(student, reference):
    """matches the reference on a batch of scores"""
    case = reference.case("ls_g_loss")
    expect_case(student.ls_generator_loss(*case.args).value, case, "the least squares generator loss",
                judge.LS_GENERATOR_FORMULA, scalar=True,
                mistakes=judge.mistakes(judge.ls_generator_candidates(*case.args)))


@check(points=1, function="build_dc_classifier")
def test_dc_classifier_layers(student):
    """has exactly the DCGAN discriminator's layers, in order"""
    summary = judge.architecture(student, "build_dc_classifier", x=_batch(3, 784), seed=SEED,
                                 name="build_dc_classifier()")
    expect_module(summary, "build_dc_classifier()", layers=[
        "Unflatten(dim=1, unflattened_size=(1, 28, 28))",
        "Conv2d(in_channels=1, out_channels=32, kernel_size=(5, 5), stride=(1, 1), padding=(0, 0))",
        "LeakyReLU(negative_slope=0.01)", "MaxPool2d(kernel_size=2, stride=2)",
        "Conv2d(in_channels=32, out_channels=64, kernel_size=(5, 5), stride=(1, 1), padding=(0, 0))",
        "LeakyReLU(negative_slope=0.01)", "MaxPool2d(kernel_size=2, stride=2)", "Flatten(start_dim=1, end_dim=-1)",
        "Linear(in_features=1024, out_features=1024)", "LeakyReLU(negative_slope=0.01)",
        "Linear(in_features=1024, out_features=1)"])


@check(points=1, function="build_dc_generator")
def test_dc_generator_layers_and_noise_dim(student):
    """follows the DCGAN generator specification for another noise_dim"""
    summary = judge.architecture(student, "build_dc_generator", 32, x=_batch(3, 32), seed=SEED,
                                 name="build_dc_generator(32)")
    expect_module(summary, "build_dc_generator(32)", output_shape=(3, 784), layers=[
        "Linear(in_features=32, out_features=1024)", "ReLU()", "BatchNorm1d(num_features=1024)",
        "Linear(in_features=1024, out_features=6272)", "ReLU()", "BatchNorm1d(num_features=6272)",
        "Unflatten(dim=1, unflattened_size=(128, 7, 7))",
        "ConvTranspose2d(in_channels=128, out_channels=64, kernel_size=(4, 4), stride=(2, 2), padding=(1, 1))",
        "ReLU()", "BatchNorm2d(num_features=64)",
        "ConvTranspose2d(in_channels=64, out_channels=1, kernel_size=(4, 4), stride=(2, 2), padding=(1, 1))",
        "Tanh()", "Flatten(start_dim=1, end_dim=-1)"],
        figure=output_figure(summary.get("output"), 28, -1, 1, "your images"))
