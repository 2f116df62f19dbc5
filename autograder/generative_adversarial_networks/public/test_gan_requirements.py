"""Public checks for what the notebook requires beyond shapes and small cases: noise that fills
[-1, 1], losses that stay finite for logits of +-1000 (the docstrings' promise), and the layer
order and activation slopes of the four networks.

Each catches an honest mistake before grading, on inputs other than the hidden checks' (other
sizes, other logits, the notebook's noise_dim where the hidden checks use another one).
"""

import torch

from vizgen.author.expect import fail, expect_module, expect_tensor
from vizgen.author.checks import check
from vizgen.author.support import assignment_probes

gan = assignment_probes(__file__)  # autograder/generative_adversarial_networks/probes.py

HUGE_REAL = torch.tensor([[1000.0], [-1000.0], [3.0], [-500.0]])  # (N, 1): sigmoid under/overflows in float32
HUGE_FAKE = torch.tensor([[-1000.0], [1000.0], [-2.0], [700.0]])  # (N, 1)


@check(points=1, function="sample_noise")
def test_noise_fills_minus_one_to_one(student):
    """over 50,000 draws the noise reaches both ends of [-1, 1] and is centred on 0"""
    noise = expect_tensor(student.sample_noise(5_000, 10).value, "noise").double()
    low, high, mean = noise.min().item(), noise.max().item(), noise.mean().item()
    if low > -0.9 or high < 0.9 or abs(mean) > 0.02:
        fail(
            f"the noise spans [{low:.3f}, {high:.3f}] with mean {mean:.3f}; uniform noise on [-1, 1] reaches both "
            "ends and has mean 0: torch.rand gives [0, 1), map it with 2 * torch.rand(...) - 1."
        )


@check(points=1, function="discriminator_loss")
def test_discriminator_loss_finite_at_1000(student):
    """is right and finite for logits of +-1000, as the docstring promises"""
    value = student.discriminator_loss(HUGE_REAL, HUGE_FAKE).value
    gan.expect_loss(value, gan.discriminator_candidates(HUGE_REAL, HUGE_FAKE),
                    "the discriminator loss at logits +-1000", gan.DISCRIMINATOR_FORMULA)


@check(points=1, function="generator_loss")
def test_generator_loss_finite_at_1000(student):
    """is right and finite for logits of +-1000"""
    value = student.generator_loss(HUGE_FAKE).value
    gan.expect_loss(value, gan.generator_candidates(HUGE_FAKE), "the generator loss at logits +-1000",
                    gan.GENERATOR_FORMULA)


def _expect_order(summary: dict, name: str, wanted: list[str], hint: str) -> None:
    """The layers' types (and LeakyReLU slopes) follow ``wanted``, with a hint naming the usual mistake."""
    if not summary["is_module"]:
        expect_module(summary, name)
    got = [layer.split("(")[0] if not layer.startswith("LeakyReLU") else layer for layer in summary["layers"]]
    if got != wanted:
        first = next((i for i, (a, b) in enumerate(zip(got, wanted)) if a != b), min(len(got), len(wanted)))
        found = got[first] if first < len(got) else "nothing"
        expected = wanted[first] if first < len(wanted) else "nothing"
        fail(f"{name}'s layer {first + 1} is {found}; expected {expected}: {hint}.")


LEAKY = "LeakyReLU(negative_slope=0.01)"


@check(points=1, function="discriminator")
def test_discriminator_layer_order(student):
    """Flatten, then Linear and LeakyReLU(0.01) in turn, ending in a Linear"""
    summary = student.probe("module_summary", "discriminator").value
    _expect_order(summary, "discriminator()", ["Flatten", "Linear", LEAKY, "Linear", LEAKY, "Linear"],
                  "the leaky slope is 0.01 (CS231n's, not DCGAN's 0.2), and no activation after the last layer "
                  "(the loss applies the sigmoid)")


@check(points=1, function="generator")
def test_generator_layer_order(student):
    """Linear and ReLU in turn, ending in Linear then Tanh"""
    summary = student.probe("module_summary", "generator", 96).value
    _expect_order(summary, "generator(96)", ["Linear", "ReLU", "Linear", "ReLU", "Linear", "Tanh"],
                  "ReLU after each hidden layer and Tanh last, so the pixels land in [-1, 1]")


@check(points=1, function="build_dc_classifier")
def test_dc_classifier_layer_order(student):
    """convolution, LeakyReLU(0.01), max pool (twice), then the fully connected layers"""
    summary = student.probe("module_summary", "build_dc_classifier").value
    _expect_order(summary, "build_dc_classifier()", [
        "Unflatten", "Conv2d", LEAKY, "MaxPool2d", "Conv2d", LEAKY, "MaxPool2d", "Flatten", "Linear", LEAKY, "Linear"],
        "each convolution is followed by LeakyReLU with slope 0.01 (not 0.2), then a 2x2 max pool")


@check(points=1, function="build_dc_generator")
def test_dc_generator_layer_order(student):
    """each hidden layer is followed by ReLU and then batch norm, as the notebook says"""
    summary = student.probe("module_summary", "build_dc_generator", 96).value
    _expect_order(summary, "build_dc_generator(96)", [
        "Linear", "ReLU", "BatchNorm1d", "Linear", "ReLU", "BatchNorm1d", "Unflatten",
        "ConvTranspose2d", "ReLU", "BatchNorm2d", "ConvTranspose2d", "Tanh", "Flatten"],
        "in this generator batch norm comes after the ReLU (layer, ReLU, batch norm), not before it")
