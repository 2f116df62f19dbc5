"""Public checks of the VAE: the reparametrization's gradients, the loss by hand, the model's shapes,
and the importance-weighted bound where it is exact."""

import math

import torch

from vizgen.author.expect import fail, expect_loss, expect_close, expect_shape, expect_tensor
from vizgen.author.checks import check
from vizgen.author.support import assignment_probes

vae = assignment_probes(__file__)  # autograder/variational_autoencoders/probes.py

MU = torch.tensor([[0.5, -1.0], [0.0, 2.0], [1.5, 0.3]])  # (N, Z) = (3, 2)
LOGVAR = torch.tensor([[0.0, -2.0], [1.0, 0.5], [-0.5, 0.0]])  # (3, 2)
LOGITS = torch.tensor([[2.0, -1.0, 0.5, 3.0, -4.0], [0.0, 1.0, -2.0, 0.5, 1.5], [-3.0, 2.5, 0.1, -0.2, 4.0]])  # (3, 5)
X = torch.tensor([[1.0, 0.0, 1.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0, 1.0], [1.0, 1.0, 0.0, 0.0, 1.0]])  # (3, 5) binary


@check(points=1, function="reparametrize")
def test_reparametrize_gradients(student):
    """returns fresh mu + exp(logvar / 2) * eps, with gradients 1 for mu and (z - mu) / 2 for logvar"""
    out = student.probe("reparametrize_gradients", "reparametrize", MU, LOGVAR).value
    if out["z"] is None:
        fail(f"reparametrize returned a {out['type']}; expected the tensor z.")
    z = out["z"]
    expect_shape(z, tuple(MU.shape), "z", hint="z has the shape of mu: one code per row")
    if not out["has_graph"]:
        fail("z carries no gradient: build it from mu and logvar with torch operations "
             "(no .detach(), no torch.no_grad(), no new tensor from numbers).")
    again = student.probe("reparametrize_gradients", "reparametrize", MU, LOGVAR).value["z"]
    if again is not None and torch.equal(again, z):
        fail("two calls returned the same z: draw fresh noise on each call (torch.randn_like), "
             "do not seed inside reparametrize.")
    expect_close(out["mu_grad"], torch.ones_like(MU), "d sum(z) / d mu", atol=1e-6, rtol=1e-6,
                 hint="z = mu + sigma * eps moves one for one with mu")
    if torch.allclose(out["logvar_grad"], z - MU, atol=1e-5):
        fail("d z / d logvar equals z - mu, so sigma = exp(logvar): logvar is the log of the variance, "
             "so sigma = exp(logvar / 2).")
    expect_close(out["logvar_grad"], (z - MU) / 2, "d sum(z) / d logvar", atol=1e-5, rtol=1e-5,
                 hint="with sigma = exp(logvar / 2), d z / d logvar = sigma * eps / 2 = (z - mu) / 2")


@check(points=1, function="vae_loss")
def test_vae_loss_zero_kl(student):
    """with logits 0, mu 0 and logvar 0 it is 5 log 2 for 5 pixels (the KL is 0)"""
    zeros = torch.zeros(3, 2)
    value = student.vae_loss(torch.zeros(3, 5), X, zeros, zeros).value
    candidates = vae.vae_loss_candidates(torch.zeros(3, 5), X, zeros, zeros)
    candidates["correct"] = 5 * math.log(2)  # BCE(0, x) = log 2 per pixel, summed over 5 pixels; KL(N(0, 1) || N(0, 1)) = 0
    expect_loss(value, candidates, "vae_loss", vae.VAE_LOSS_FORMULA)


@check(points=1, function="vae_loss")
def test_vae_loss_by_hand(student):
    """sums BCE over pixels and KL over latent dimensions, and averages over the batch"""
    expect_loss(student.vae_loss(LOGITS, X, MU, LOGVAR).value, vae.vae_loss_candidates(LOGITS, X, MU, LOGVAR),
                "vae_loss", vae.VAE_LOSS_FORMULA)


@check(points=1, function="vae_loss")
def test_vae_loss_stable_for_large_logits(student):
    """stays finite and right for logits of +-50 to +-1000"""
    logits = torch.tensor([[1000.0, -1000.0, 50.0, -50.0, 200.0], [-300.0, 700.0, -60.0, 0.0, 90.0]])  # (2, 5)
    x, mu, logvar = X[:2], MU[:2], LOGVAR[:2]
    expect_loss(student.vae_loss(logits, x, mu, logvar).value, vae.vae_loss_candidates(logits, x, mu, logvar),
                "vae_loss", vae.VAE_LOSS_FORMULA)


@check(points=1, function="VAE")
def test_vae_shapes_and_size(student):
    """encode gives (N, 20) twice, decode (N, 784) logits, forward all three; 652,824 parameters"""
    summary = student.probe("vae_summary", "VAE").value
    name = "VAE()"
    if not summary["is_module"]:
        fail(f"{name} is a {summary['type']}; expected an nn.Module.")
    if summary["error"]:
        fail(f"calling {name}'s methods failed: {summary['error']}: check encode, decode and forward.")
    if summary["encode"] != ((3, 20), (3, 20)):
        fail(f"encode returned shapes {summary['encode']}; expected (mu, logvar), each (3, 20).")
    if summary["decode"] != (3, 784):
        fail(f"decode returned shape {summary['decode']}; expected (3, 784) logits.")
    if summary["forward"] != ((3, 784), (3, 20), (3, 20)):
        fail(f"forward returned shapes {summary['forward']}; expected (logits, mu, logvar): "
             "(3, 784), (3, 20), (3, 20).")
    if not summary["decode_min"] < 0:
        fail("decode never returned a negative value, so it returns probabilities: end the decoder "
             "with the Linear layer (logits); the loss applies the sigmoid.")
    if summary["parameters"] != 652_824:
        fail(f"{name} has {summary['parameters']:,} parameters; expected 652,824: check each layer's "
             "sizes (one hidden layer of 400 in the encoder and in the decoder).")


@check(points=1, function="importance_weighted_nll")
def test_iw_nll_exact_when_q_is_the_posterior(student):
    """is exactly -log p(x) for every k when the decoder ignores z and q(z|x) is the prior, without gradients or changes to the model"""
    bias = torch.tensor([1.0, -2.0, 0.5, 3.0, -0.5])  # (5,) the decoder's logits, whatever z is
    x = X[:2]  # (2, 5)
    exact = vae.log_marginal_constant_decoder(bias, x).mean().item()  # every importance weight equals p(x)
    out = student.probe("iw_estimates", "importance_weighted_nll", x, torch.zeros(5, 2), bias, torch.zeros(2),
                        torch.zeros(2), ks=(1, 7), repeats=2).value
    if out["estimates"] is None:
        fail(f"importance_weighted_nll returned a {out['type']} of shape {out['shape']}; expected a "
             "scalar tensor, the mean over the images.")
    if out["requires_grad"]:
        fail("importance_weighted_nll returned a tensor that requires grad: compute it under "
             "torch.no_grad(), it is an evaluation.")
    if out["model_changed"]:
        fail("importance_weighted_nll changed the model (its parameters or its eval mode): only call "
             "model.encode and model.decode, no optimizer step, no model.train().")
    estimates = expect_tensor(out["estimates"], "the estimates")
    expect_close(estimates, torch.full_like(estimates, exact), "importance_weighted_nll", atol=1e-4, rtol=1e-5,
                 hint="log w = log p(x|z) + log N(z; 0, I) - log N(z; mu, sigma^2), -log p(x|z) the BCE summed over "
                      "pixels; return -(logsumexp(log w, dim=0) - log k), averaged over the images")
