"""Public checks for what the notebook requires beyond shapes and small cases: noise that fills
[-1, 1] and losses that stay finite for logits of +-1000 (the docstrings' promise). The layer order and
activation slopes of the four networks are checked in ``test_architectures.py``.

Each catches an honest mistake before grading, on inputs other than the hidden checks' (other sizes,
other logits). The losses are compared with the solution's values stored in ``references.pt``, with the
usual mistakes' values on the same logits (``vizgen references build``).
"""

import torch

from vizgen.author import ReferenceCase, assignment_probes, check, expect_case, expect_tensor, fail

gan = assignment_probes(__file__)  # autograder/generative_adversarial_networks/probes.py

HUGE_REAL = torch.tensor([[1000.0], [-1000.0], [3.0], [-500.0]])  # (N, 1): sigmoid under/overflows in float32
HUGE_FAKE = torch.tensor([[-1000.0], [1000.0], [-2.0], [700.0]])  # (N, 1)

PUBLIC_CASES = [
    ReferenceCase("d_loss_at_1000", "discriminator_loss", lambda: ([HUGE_REAL, HUGE_FAKE], {}), atol=1e-5, rtol=1e-4,
                  why="float32 BCE on logits of +-1000: stable formulations agree to ~1e-7 relative.",
                  mistakes="discriminator_candidates"),
    ReferenceCase("g_loss_at_1000", "generator_loss", lambda: ([HUGE_FAKE], {}), atol=1e-5, rtol=1e-4,
                  why="float32 BCE on logits of +-1000: stable formulations agree to ~1e-7 relative.",
                  mistakes="generator_candidates"),
]


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
def test_discriminator_loss_finite_at_1000(student, reference):
    """is right and finite for logits of +-1000, as the docstring promises"""
    case = reference.case("d_loss_at_1000")
    expect_case(student.discriminator_loss(*case.args).value, case, "the discriminator loss at logits +-1000",
                gan.DISCRIMINATOR_FORMULA, scalar=True)


@check(points=1, function="generator_loss")
def test_generator_loss_finite_at_1000(student, reference):
    """is right and finite for logits of +-1000"""
    case = reference.case("g_loss_at_1000")
    expect_case(student.generator_loss(*case.args).value, case, "the generator loss at logits +-1000",
                gan.GENERATOR_FORMULA, scalar=True)
