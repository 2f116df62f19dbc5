"""Public checks: one discriminator and one generator update (Goodfellow et al. 2014, Algorithm 1), each
run on tiny linear players next to the student's code and compared with the change worked out by hand.

The step gets a stand-in loss, a Wasserstein critic's (Arjovsky et al. 2017): discriminator_loss(real,
fake) = mean(fake) - mean(real), generator_loss(fake) = -mean(fake); a step must use the loss it is given.
D(x) = w . x + b with w = (0.5, -0.25), b = 0.1; G(z) = tanh(a * z + c) with a = (1, -2), c = (0, 0.5);
the real batch is x = (1, 2), (3, -1), the noise z = 0.5, -1; plain SGD with lr 0.1. Before the step,
every .grad of the player that steps holds 0.5 (what the other player's step leaves in training).
"""

import math

import torch

from vizgen.author import assignment_probes, check, expect_match, fail

gan = assignment_probes(__file__)  # autograder/generative_adversarial_networks/probes.py

D_PARAMS = [torch.tensor([[0.5, -0.25]]), torch.tensor([0.1])]  # w (1, 2), b (1,)
G_PARAMS = [torch.tensor([[1.0], [-2.0]]), torch.tensor([0.0, 0.5])]  # a (2, 1), c (2,)
REAL = torch.tensor([[1.0, 2.0], [3.0, -1.0]])  # (2, 2)
Z = torch.tensor([[0.5], [-1.0]])  # (2, 1)
LR, STALE = 0.1, 0.5

# The fakes: tanh((0.5, -0.5)) = (0.46212, -0.46212) and tanh((-1, 2.5)) = (-0.76159, 0.98661), mean
# (-0.14974, 0.26225); the reals' mean is (2, 0.5). d loss / d w = mean(fakes) - mean(reals) =
# (-2.14974, -0.23775) and d loss / d b = 1 - 1 = 0, so one step moves (w, b) by -0.1 times that:
D_CHANGE = torch.tensor([0.21497387, 0.02377515, 0.0])
D_MISTAKES = {
    "no D_solver.zero_grad() before backward (in training, G's step leaves gradients in D)":
        torch.tensor([0.16497386, -0.02622485, -0.05]),  # the stale 0.5 added: -0.1 * (gradient + 0.5)
    "the loss's arguments are swapped (D's scores on the real images x first, on the fakes second)":
        torch.tensor([-0.21497387, -0.02377515, 0.0]),
}
D_LOSS = -1.0154314  # mean D(fakes) - mean D(reals) = -0.04043 - 0.975, before the step

# G's step: loss = -mean_n(w . tanh(a z_n + c) + b); d loss / d a_j = -mean_n w_j (1 - tanh^2) z_n and
# d loss / d c_j = -mean_n w_j (1 - tanh^2), so one step moves (a, c) by:
G_CHANGE = torch.tensor([-0.00066876, -0.00458288, 0.03016055, -0.01016301])
G_MISTAKES = {
    "no G_solver.zero_grad() before backward (the old gradients were added to the new ones)":
        torch.tensor([-0.05066876, -0.05458288, -0.01983945, -0.06016301]),
}
G_LOSS = 0.04043138  # -mean D(fakes), before the step


def _flat(params: list) -> torch.Tensor:
    return torch.cat([p.flatten() for p in params])


def _expect_loss(losses: list, want: float, function: str, advice: str) -> None:
    got = losses[0] if losses else float("nan")
    if math.isnan(got):  # the probe found no scalar tensor
        fail(f"{function} returned no scalar loss tensor: {advice}.")
    if abs(got - want) > 1e-5 * max(1.0, abs(want)):
        fail(f"{function} returned the loss {got:.6g}; expected {want:.6g}: {advice}.")


@check(points=1, function="discriminator_step")
def test_discriminator_step_is_one_correct_update(student):
    """updates D alone by one step on the loss, with fresh gradients and the fakes detached"""
    report = student.probe("discriminator_step", "discriminator_step", D_PARAMS, G_PARAMS, REAL, Z, lr=LR,
                           stale=STALE).value
    if report["g_grad"] > 0:
        fail("discriminator_step gave G's parameters gradients: detach the fakes (G(z).detach()) so that "
             "D's step trains D only.")
    if not torch.equal(report["g_after"], _flat(G_PARAMS)):
        fail("discriminator_step changed G's parameters: step only D_solver in D's step.")
    change = report["d_after"] - _flat(D_PARAMS)
    if change.abs().max() == 0:
        fail("D's parameters did not change: call loss.backward() and then D_solver.step().")
    expect_match(change, D_CHANGE, D_MISTAKES, "D's parameter change after one discriminator_step",
                 "one D_solver.step() on discriminator_loss(D(x), D(G(z).detach())) after D_solver.zero_grad(), "
                 "with the loss function passed in, real scores first", atol=1e-6, rtol=1e-4)
    _expect_loss(report["losses"], D_LOSS, "discriminator_step",
                 "return (loss, scores_real, scores_fake) with the loss computed before the step")


@check(points=1, function="generator_step")
def test_generator_step_is_one_correct_update(student):
    """updates G alone by one step on the loss, the gradient flowing through D"""
    report = student.probe("generator_step", "generator_step", D_PARAMS, G_PARAMS, Z, lr=LR, stale=STALE).value
    change = report["g_after"] - _flat(G_PARAMS)
    if change.abs().max() == 0:
        fail("G's parameters did not change: do not detach G(z) in G's step (the gradient must flow "
             "through D into G), and call G_solver.step() after backward.")
    if not torch.equal(report["d_after"], _flat(D_PARAMS)):
        fail("generator_step changed D's parameters: step only G_solver in G's step.")
    expect_match(change, G_CHANGE, G_MISTAKES, "G's parameter change after one generator_step",
                 "one G_solver.step() on generator_loss(D(G(z))) after G_solver.zero_grad(), with the loss "
                 "function passed in and fresh fakes G(z) fed through D", atol=1e-6, rtol=1e-4)
    _expect_loss(report["losses"], G_LOSS, "generator_step", "return the loss computed before the step")
