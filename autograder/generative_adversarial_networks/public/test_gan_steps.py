"""Public checks: one discriminator and one generator update (Goodfellow et al. 2014, Algorithm 1),
each run on tiny models next to the student's code and compared with the correct step."""

from vizgen.author.checks import check
from vizgen.author.support import assignment_probes

gan = assignment_probes(__file__)  # autograder/generative_adversarial_networks/probes.py


@check(points=1, function="discriminator_step")
def test_discriminator_step_is_one_correct_update(student):
    """updates D alone by one step on the loss, with fresh gradients and the fakes detached"""
    gan.judge_discriminator_step(student.probe("discriminator_step", "discriminator_step", seed=3).value)


@check(points=1, function="generator_step")
def test_generator_step_is_one_correct_update(student):
    """updates G alone by one step on the loss, the gradient flowing through D"""
    gan.judge_generator_step(student.probe("generator_step", "generator_step", seed=3).value)
