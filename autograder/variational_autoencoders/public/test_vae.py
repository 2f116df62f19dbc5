"""Public checks of the VAE: the reparametrization's gradients and the law of its noise, the loss against
stored references, the model's shapes, and the importance-weighted bound where it is exact and on a model
where it differs from the ELBO.

Nothing here computes a correct answer: the losses and the bound are judged against ``references.pt``
(the solution's outputs and the usual mistakes' values, stored by ``vizgen references build``), the
gradients and the exact -log p(x) are written out by hand for these tiny inputs, and the noise is judged
by its distribution over many draws (a Kolmogorov-Smirnov test against N(0, 1))."""

import torch
from scipy.special import ndtr  # the standard normal's CDF

from vizgen.author import (FALSE_FAILURE, ModelSpec, ReferenceCase, check, expect_case, expect_close,
                           expect_distribution, expect_gradients, expect_shape, expect_tensor, fail)
from vizgen.author.support import assignment_probes

vae = assignment_probes(__file__)  # autograder/variational_autoencoders/probes.py

MU = torch.tensor([[0.5, -1.0], [0.0, 2.0], [1.5, 0.3]])  # (N, Z) = (3, 2)
LOGVAR = torch.tensor([[0.0, -2.0], [1.0, 0.5], [-0.5, 0.0]])  # (3, 2)
LOGITS = torch.tensor([[2.0, -1.0, 0.5, 3.0, -4.0], [0.0, 1.0, -2.0, 0.5, 1.5], [-3.0, 2.5, 0.1, -0.2, 4.0]])  # (3, 5)
X = torch.tensor([[1.0, 0.0, 1.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0, 1.0], [1.0, 1.0, 0.0, 0.0, 1.0]])  # (3, 5) binary
LARGE = torch.tensor([[1000.0, -1000.0, 50.0, -50.0, 200.0], [-300.0, 700.0, -60.0, 0.0, 90.0]])  # (2, 5)

# -log p(x) of the two images X[:2] under a decoder whose logits are IW_BIAS whatever z is: the BCE of
# IW_BIAS against each image summed over its 5 pixels, softplus(-b) where x = 1 and softplus(b) where
# x = 0 (1.436931 and 5.436931 nats), averaged over the two images.
IW_BIAS = torch.tensor([1.0, -2.0, 0.5, 3.0, -0.5])  # (5,)
IW_EXACT = 3.4369310184951507

LOSS_WHY = "float32 sums over 5 pixels and 2 latent dimensions: correct formulations agree to ~1e-6 relative."
PUBLIC_CASES = [
    ReferenceCase("public_vae_loss_zero_kl", "vae_loss", lambda: ([torch.zeros(3, 5), X, torch.zeros(3, 2),
                                                                   torch.zeros(3, 2)], {}),
                  atol=1e-5, rtol=1e-4, why=LOSS_WHY, mistakes="vae_loss_candidates"),
    ReferenceCase("public_vae_loss_by_hand", "vae_loss", lambda: ([LOGITS, X, MU, LOGVAR], {}),
                  atol=1e-5, rtol=1e-4, why=LOSS_WHY, mistakes="vae_loss_candidates"),
    ReferenceCase("public_iw_nll_mismatched_q", "importance_weighted_nll",
                  lambda: ([ModelSpec("iw_vae", seed=22), vae.iw_images(2500), 10], {}), atol=0.1, rtol=0.0,
                  mistakes="iw_nll_candidates",
                  why="a Monte Carlo estimate: over 10,000 images with k = 10 one call's mean has a standard deviation "
                      "of about 0.011 nats, so two correct calls differ by more than 0.1 with probability below "
                      "1e-9; the usual mistakes' values (expectations over 10 draws) lie 0.3 nats or more from it "
                      "and from each other."),
    ReferenceCase("public_vae_loss_large_logits", "vae_loss", lambda: ([LARGE, X[:2], MU[:2], LOGVAR[:2]], {}),
                  atol=1e-3, rtol=1e-5, why="float32 BCE on logits up to |1000|: stable formulations agree to "
                                            "~1e-6 relative.", mistakes="vae_loss_candidates"),
]


NOISE_MU, NOISE_LOGVAR = torch.tensor([0.5, -1.0, 2.0]), torch.tensor([0.0, -2.0, 1.5])  # (Z,) = (3,)
NOISE_ROWS = 20_000  # 60,000 draws per call
NOISE_HINT = ("eps must be standard normal, one independent draw per entry and per call: torch.randn_like(mu) (not "
              "torch.rand_like, not signs or other noise of unit variance), and sigma = exp(logvar / 2)")


def _noise(student, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """The student's eps = (z - mu) / exp(logvar / 2), float64, for one call."""
    z = expect_tensor(student.reparametrize(mu, logvar).value, "z")
    expect_shape(z, tuple(mu.shape), "z", hint="z has the shape of mu: one code per row")
    return (z.double() - mu.double()) / torch.exp(logvar.double() / 2)


def _expect_uncorrelated(a: torch.Tensor, b: torch.Tensor, what: str) -> None:
    """|corr(a, b)| below 5 / sqrt(n): independent noise exceeds it with probability below 6e-7."""
    a, b = a.flatten() - a.mean(), b.flatten() - b.mean()
    corr = float((a * b).sum() / (a.norm() * b.norm()).clamp_min(1e-300))
    if abs(corr) > 5 / len(a) ** 0.5:
        fail(f"the noise of {what} is correlated (correlation {corr:.3f} over {len(a)} pairs; independent draws "
             f"stay within +-{5 / len(a) ** 0.5:.3f}): eps needs one independent draw per entry and per call, "
             "torch.randn_like(mu), never one draw shared or reused.")


@check(points=2, function="reparametrize")
def test_reparametrize_noise_is_standard_normal(student):
    ("(z - mu) / exp(logvar / 2) follows N(0, 1) over 60,000 draws (Kolmogorov-Smirnov) and is independent "
     "across entries and calls (a correct sampler fails with probability about 1e-4)")
    mu, logvar = NOISE_MU.repeat(NOISE_ROWS, 1), NOISE_LOGVAR.repeat(NOISE_ROWS, 1)  # (20000, 3) each
    first, second = _noise(student, mu, logvar), _noise(student, mu, logvar)
    if torch.equal(first, second):
        fail("two calls returned the same z: draw fresh noise on each call (torch.randn_like), "
             "do not seed inside reparametrize.")
    expect_distribution(first, ndtr, "(z - mu) / exp(logvar / 2)", "N(0, 1)", NOISE_HINT,
                        alpha=FALSE_FAILURE)
    for i, j in ((0, 1), (0, 2), (1, 2)):
        _expect_uncorrelated(first[:, i], first[:, j], f"latent dimensions {i} and {j}")
    _expect_uncorrelated(first[:-1], first[1:], "neighbouring rows")
    _expect_uncorrelated(first, second, "two calls")


@check(points=1, function="reparametrize")
def test_reparametrize_gradients(student):
    """z = mu + exp(logvar / 2) * eps, with gradients 1 for mu and (z - mu) / 2 for logvar"""
    z = expect_tensor(student.reparametrize(MU, LOGVAR).value, "z")
    expect_shape(z, tuple(MU.shape), "z", hint="z has the shape of mu: one code per row")
    # One entry at a time, so that z is a scalar whose gradient the student's process can report.
    codes, mu_grads, logvar_grads = [], [], []
    for i in range(MU.shape[0]):
        for j in range(MU.shape[1]):
            mu, logvar = (MU[i:i + 1, j:j + 1].clone().requires_grad_(),
                          LOGVAR[i:i + 1, j:j + 1].clone().requires_grad_())
            call = student.differentiate("reparametrize", mu, logvar, wrt=(0, 1), verify=True)
            if "why" in call.gradients:
                fail("z carries no gradient: build it from mu and logvar with torch operations "
                     "(no .detach(), no torch.no_grad(), no new tensor from numbers).")
            expect_gradients(call, "reparametrize", "build z from mu and logvar with torch operations only, the noise "
                                                    "from torch.randn_like")
            codes.append(float(call.value.reshape(())))
            mu_grads.append(float(call.gradients[call.params[0]].reshape(())))
            logvar_grads.append(float(call.gradients[call.params[1]].reshape(())))
    z, mu = torch.tensor(codes).view(MU.shape), MU
    expect_close(torch.tensor(mu_grads).view(MU.shape), torch.ones_like(MU), "d z / d mu", atol=1e-6, rtol=1e-6,
                 hint="z = mu + sigma * eps moves one for one with mu")
    logvar_grad = torch.tensor(logvar_grads).view(MU.shape)
    if torch.allclose(logvar_grad, z - mu, atol=1e-5):
        fail("d z / d logvar equals z - mu, so sigma = exp(logvar): logvar is the log of the variance, "
             "so sigma = exp(logvar / 2).")
    expect_close(logvar_grad, (z - mu) / 2, "d z / d logvar", atol=1e-5, rtol=1e-5,
                 hint="with sigma = exp(logvar / 2), d z / d logvar = sigma * eps / 2 = (z - mu) / 2")


@check(points=1, function="vae_loss")
def test_vae_loss_zero_kl(student, reference):
    """with logits 0, mu 0 and logvar 0 it is 5 log 2 for 5 pixels (the KL is 0)"""
    case = reference.case("public_vae_loss_zero_kl")  # BCE(0, x) = log 2 per pixel; KL(N(0, 1) || N(0, 1)) = 0
    expect_case(student.vae_loss(*case.args).value, case, "vae_loss", vae.VAE_LOSS_FORMULA, scalar=True)


@check(points=1, function="vae_loss")
def test_vae_loss_by_hand(student, reference):
    """sums BCE over pixels and KL over latent dimensions, and averages over the batch"""
    case = reference.case("public_vae_loss_by_hand")
    expect_case(student.vae_loss(*case.args).value, case, "vae_loss", vae.VAE_LOSS_FORMULA, scalar=True)


@check(points=1, function="vae_loss")
def test_vae_loss_stable_for_large_logits(student, reference):
    """stays finite and right for logits of +-50 to +-1000"""
    case = reference.case("public_vae_loss_large_logits")
    expect_case(student.vae_loss(*case.args).value, case, "vae_loss", vae.VAE_LOSS_FORMULA, scalar=True)


def _shapes(output) -> object:
    """The shapes of a recorded output: a tensor's shape, a tuple's shapes, else the type's name."""
    if isinstance(output, torch.Tensor):
        return tuple(output.shape)
    if isinstance(output, tuple):
        return tuple(_shapes(o) for o in output)
    return output.get("type", "nothing") if isinstance(output, dict) else type(output).__name__


def _run(student, method: str, inputs: torch.Tensor, *args) -> dict:
    """The student's VAE(*args), built beside the student's code, and its ``method`` run once on ``inputs``."""
    summary = student.probe("vae_summary", "VAE", *args, method=method, inputs=inputs).value
    name = f"VAE({', '.join(map(str, args))})"
    if not summary["is_module"]:
        fail(f"{name} is a {summary['type']}; expected an nn.Module.")
    if summary["error"]:
        fail(f"calling {name}.{method} failed: {summary['error']}: check encode, decode and forward.")
    return summary


@check(points=1, function="VAE")
def test_vae_shapes_and_size(student):
    """encode gives (N, 20) twice, decode (N, 784) logits, forward all three; 652,824 parameters"""
    x = vae.binary_images(3, 784, seed=0)  # (3, 784)
    z = torch.randn(3, 20, generator=torch.Generator().manual_seed(1)) * 3  # (3, 20) codes far from 0
    encoded = _run(student, "encode", x)["output"]
    if _shapes(encoded) != ((3, 20), (3, 20)):
        fail(f"encode returned shapes {_shapes(encoded)}; expected (mu, logvar), each (3, 20).")
    decoded = _run(student, "decode", z)
    if _shapes(decoded["output"]) != (3, 784):
        fail(f"decode returned shape {_shapes(decoded['output'])}; expected (3, 784) logits.")
    forward = _run(student, "forward", x)["output"]
    if _shapes(forward) != ((3, 784), (3, 20), (3, 20)):
        fail(f"forward returned shapes {_shapes(forward)}; expected (logits, mu, logvar): "
             "(3, 784), (3, 20), (3, 20).")
    if not float(decoded["output"].min()) < 0:
        fail("decode never returned a negative value, so it returns probabilities: end the decoder "
             "with the Linear layer (logits); the loss applies the sigmoid.")
    if decoded["parameters"] != 652_824:
        fail(f"VAE() has {decoded['parameters']:,} parameters; expected 652,824: check each layer's "
             "sizes (one hidden layer of 400 in the encoder and in the decoder).")


@check(points=1, function="importance_weighted_nll")
def test_iw_nll_exact_when_q_is_the_posterior(student):
    ("is exactly -log p(x) for every k when the decoder ignores z and q(z|x) is the prior, "
     "without gradients or changes to the model")
    x, weight, zeros = X[:2], torch.zeros(5, 2), torch.zeros(2)  # every importance weight equals p(x)
    sent = {"decoder.weight": weight, "decoder.bias": IW_BIAS, "mu_q": zeros, "logvar_q": zeros}
    estimates = []
    for seed, k in enumerate((1, 1, 7, 7)):
        out = student.probe("iw_estimate", "importance_weighted_nll", x, weight, IW_BIAS, zeros, zeros, k=k,
                            seed=seed).value
        if out["value"] is None or out["value"].numel() != 1:
            got = f"a tensor of shape {out['shape']}" if out["value"] is not None else f"a {out['type']}"
            fail(f"importance_weighted_nll returned {got}; expected a scalar tensor, the mean over the images.")
        if out["requires_grad"]:
            fail("importance_weighted_nll returned a tensor that requires grad: compute it under "
                 "torch.no_grad(), it is an evaluation.")
        after = out["state_after"]
        if out["training_after"] or set(after) != set(sent) or any(
                not torch.equal(after[key], value) for key, value in sent.items()):
            fail("importance_weighted_nll changed the model (its parameters or its eval mode): only call "
                 "model.encode and model.decode, no optimizer step, no model.train().")
        estimates.append(float(out["value"].reshape(())))
    estimates = torch.tensor(estimates, dtype=torch.float64)
    expect_close(estimates, torch.full_like(estimates, IW_EXACT), "importance_weighted_nll", atol=1e-4, rtol=1e-5,
                 hint="compute " + vae.IW_FORMULA)


@check(points=1, function="importance_weighted_nll")
def test_iw_nll_on_a_model_where_the_bound_is_not_the_elbo(student, reference):
    ("is -L_10 on a seeded VAE whose decoder depends on z and whose q(z|x) is neither the prior nor the "
     "posterior (10,000 images, k = 10), where -L_k lies half a nat below the negative ELBO")
    case = reference.case("public_iw_nll_mismatched_q")
    value = student.importance_weighted_nll(*case.args).value
    expect_case(value, case, "importance_weighted_nll(model, x, 10)", vae.IW_FORMULA, scalar=True)
