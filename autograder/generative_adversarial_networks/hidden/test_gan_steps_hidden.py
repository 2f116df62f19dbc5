"""Hidden checks: the update steps on other tiny models, and 20 of them, judged in the grader.

The grader draws the tiny players' parameters and the batch from seeds and sends them; the probe runs
the student's step with a stand-in loss (a Wasserstein critic's, ``probes.critic_loss``) and reports
the parameters after. The correct change, the usual mistakes' changes, the losses and the parameters
after 20 correct steps are computed here from the same parameters (``judge.py``).
"""

import torch

from vizgen.author import assignment_judge, check, fail

judge = assignment_judge(__file__)  # autograder/generative_adversarial_networks/judge.py: grader side only

SEED, BATCH, LR, STALE, STEPS = 31, 24, 0.1, 0.5, 20
D_TRAIN_LR = 0.02  # the critic loss is unbounded below: at 0.1, 20 steps blow D's weights up 100-fold


def _data() -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(SEED + 1)
    real = torch.randn(BATCH, 8, generator=generator) + 1.0  # (B, 8)
    z = torch.rand(BATCH, 4, generator=generator) * 2 - 1  # (B, 4)
    return real, z


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape == b.shape and bool(torch.allclose(a, b, atol=1e-5, rtol=1e-4))


@check(points=1, function="discriminator_step")
def test_discriminator_steps_improve_the_objective(student):
    """on other models: one step is the correct update, and 20 steps lower D's true loss"""
    real, z = _data()
    d_params, g_params = judge.tiny_gan_params(SEED)
    report = student.probe("discriminator_step", "discriminator_step", d_params, g_params, real, z, lr=LR,
                           stale=STALE).value
    expected = judge.discriminator_step_expectations(d_params, g_params, real, z, LR, STALE)
    judge.expect_discriminator_step(report, expected)

    d_params, g_params = judge.tiny_gan_params(SEED + 100)
    report = student.probe("discriminator_step", "discriminator_step", d_params, g_params, real, z, lr=D_TRAIN_LR,
                           steps=STEPS).value
    want, _ = judge.discriminator_steps(d_params, g_params, real, z, D_TRAIN_LR, steps=STEPS)
    if not _close(report["d_after"], want):
        start = torch.cat([p.flatten() for p in d_params])
        before, after, expected = (judge.critic_loss_at(d_params, g_params, real, z, flat)
                                   for flat in (start, report["d_after"], want))
        fail(f"{STEPS} calls of discriminator_step moved D's loss from {before:.3f} to {after:.3f}; {STEPS} correct "
             f"steps move it to {expected:.3f}: each call must take exactly one step of D_solver on the loss it is "
             "given.")


@check(points=1, function="generator_step")
def test_generator_steps_fool_the_discriminator(student):
    """on other models: one step is the correct update, and 20 steps lower G's non-saturating loss"""
    _, z = _data()
    d_params, g_params = judge.tiny_gan_params(SEED)
    report = student.probe("generator_step", "generator_step", d_params, g_params, z, lr=LR, stale=STALE).value
    judge.expect_generator_step(report, judge.generator_step_expectations(d_params, g_params, z, LR, STALE))

    d_params, g_params = judge.tiny_gan_params(SEED + 100)
    report = student.probe("generator_step", "generator_step", d_params, g_params, z, lr=LR, steps=STEPS).value
    want, _ = judge.generator_steps(d_params, g_params, z, LR, steps=STEPS)
    if not _close(report["g_after"], want):
        start = torch.cat([p.flatten() for p in g_params])
        before, after, expected = (judge.non_saturating_loss_at(d_params, g_params, z, flat)
                                   for flat in (start, report["g_after"], want))
        fail(f"{STEPS} calls of generator_step moved G's loss -log D(G(z)) from {before:.3f} to {after:.3f}; {STEPS} "
             f"correct steps move it to {expected:.3f}: each call must take exactly one step of G_solver.")
