"""Hidden checks: the update steps on other tiny models, and 20 of them judged by the true objective
(Goodfellow et al. 2014, eq. 1) computed in the grader."""

from vizgen.author.expect import fail
from vizgen.author.checks import check
from vizgen.author.support import assignment_probes

gan = assignment_probes(__file__)  # autograder/generative_adversarial_networks/probes.py


@check(points=1, function="discriminator_step")
def test_discriminator_steps_improve_the_objective(student):
    """on other models: one step is the correct update, and 20 steps lower D's true loss"""
    summary = student.probe("discriminator_step", "discriminator_step", seed=31, batch=24).value
    gan.judge_discriminator_step(summary)
    before = gan.discriminator_candidates(summary["real_before"], summary["fake_before"])["correct"]
    after = gan.discriminator_candidates(summary["real_after"], summary["fake_after"])["correct"]
    if not after < 0.95 * before:
        fail(f"20 calls of discriminator_step moved D's true loss from {before:.3f} to {after:.3f} (it "
             "should fall): each call must take one step on the loss with D's optimizer.")


@check(points=1, function="generator_step")
def test_generator_steps_fool_the_discriminator(student):
    """on other models: one step is the correct update, and 20 steps lower G's non-saturating loss"""
    summary = student.probe("generator_step", "generator_step", seed=31, batch=24).value
    gan.judge_generator_step(summary)
    before = gan.generator_candidates(summary["fake_before"])["correct"]
    after = gan.generator_candidates(summary["fake_after"])["correct"]
    if not after < before - 0.01:  # small models, small steps: about -0.03 for the correct step
        fail(f"20 calls of generator_step moved G's loss -log D(G(z)) from {before:.3f} to {after:.3f} "
             "(it should fall): each call must take one step with G's optimizer.")
