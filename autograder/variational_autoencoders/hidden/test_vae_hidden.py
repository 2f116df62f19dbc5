"""Hidden checks: PCA edge cases, exact layers for other sizes, the noise's law on other inputs, the KL
of two Gaussians, large logits, training on the loss, and the importance-weighted bound on another
model and its behaviour in k.

The correct values, the usual mistakes and the loops (training a tiny VAE on the student's loss, the
importance-weighted estimates over k and repeats) are the judge's: the student's process only answers
single calls."""

import torch
from scipy.special import ndtr  # the standard normal's CDF

from vizgen.author import ModelSpec, ReferenceCase, assignment_judge, assignment_probes, check, expect_case, \
    expect_distribution, expect_module, expect_tensor, fail

vae = assignment_probes(__file__)  # autograder/variational_autoencoders/probes.py
judge = assignment_judge(__file__)  # autograder/variational_autoencoders/judge.py (grader only)


def _large_logits():
    generator = torch.Generator().manual_seed(31)
    logits = torch.randn(7, 30, generator=generator) * 300  # (7, 30): |logits| up to ~1000
    x = torch.bernoulli(torch.full((7, 30), 0.5), generator=generator)  # (7, 30)
    mu, logvar = torch.randn(7, 4, generator=generator), torch.randn(7, 4, generator=generator)  # (7, 4) each
    return [logits, x, mu, logvar], {}


def _kl_inputs():
    generator = torch.Generator().manual_seed(73)
    mu_q, mu_p = torch.randn(6, 5, generator=generator) * 2, torch.randn(6, 5, generator=generator)  # (6, 5)
    logvar_q, logvar_p = torch.randn(6, 5, generator=generator) * 1.5, torch.randn(6, 5, generator=generator)  # (6, 5)
    return [mu_q, logvar_q, mu_p, logvar_p], {}


REFERENCE_CASES = [
    ReferenceCase("gaussian_kl_wide", "gaussian_kl", _kl_inputs, atol=1e-4, rtol=1e-4,
                  why="float32 sums of five terms up to ~100: correct formulations agree to ~1e-6 relative.",
                  mistakes="gaussian_kl_candidates"),
    ReferenceCase("iw_nll_other_model", "importance_weighted_nll",
                  lambda: ([ModelSpec("iw_vae", seed=18), vae.iw_images(2500), 10], {}), atol=0.1, rtol=0.0,
                  why="a Monte Carlo estimate: one call's mean over 10,000 images has a standard deviation of about "
                      "0.011 nats; the usual mistakes' values lie 0.2 nats or more from it and from each other.",
                  mistakes="iw_nll_candidates"),
    ReferenceCase("vae_loss_large_logits", "vae_loss", _large_logits, atol=1e-3, rtol=1e-5,
                  why="float32 BCE on logits up to |1000| summed over 30 pixels: stable formulations agree to "
                      "~1e-6 relative.",
                  mistakes="vae_loss_candidates"),
]


@check(points=1, function="pca_reconstruct")
def test_pca_other_shapes(student):
    """matches scikit-learn for k = 1 on wide data and leaves X unchanged"""
    x = vae.low_rank_data(9, 20, 3, seed=2)
    judge.expect_pca(student.pca_reconstruct(x, 1), x, 1)


@check(points=1, function="Autoencoder")
def test_autoencoder_layers_other_sizes(student):
    """Autoencoder(30, 12, 3) has exactly the specified layers and maps (N, 30) to (N, 30)"""
    summary = student.probe("module_summary", "Autoencoder", 30, 12, 3, input_shape=(4, 30)).value
    expect_module(summary, "Autoencoder(30, 12, 3)", output_shape=(4, 30), layers=[
        "Linear(in_features=30, out_features=12)", "ReLU()", "Linear(in_features=12, out_features=3)",
        "Linear(in_features=3, out_features=12)", "ReLU()", "Linear(in_features=12, out_features=30)"])


@check(points=1, function="reparametrize")
def test_reparametrize_noise_other_shape(student):
    """(z - mu) / exp(logvar / 2) follows N(0, 1) over 5,000 x 4 draws with other means and log-variances"""
    mu = torch.tensor([1.0, -2.0, 0.0, 3.0]).repeat(5000, 1)  # (5000, 4)
    logvar = torch.tensor([0.0, 1.0, -2.0, -0.5]).repeat(5000, 1)  # (5000, 4)
    z = expect_tensor(student.reparametrize(mu, logvar).value, "z").double()
    if tuple(z.shape) != (5000, 4):
        fail(f"z has shape {tuple(z.shape)}; expected (5000, 4), the shape of mu.")
    spread = (z - mu.double()).std(dim=0)  # (4,)
    if torch.allclose(spread, torch.exp(logvar[0].double()), rtol=0.05):
        fail(f"z has standard deviations {[round(s, 3) for s in spread.tolist()]} = exp(logvar): logvar is the "
             "log-variance, so sigma = exp(logvar / 2).")
    again = expect_tensor(student.reparametrize(mu, logvar).value, "z").double()
    if torch.equal(again, z):
        fail("two calls returned the same z: draw fresh noise on each call (torch.randn_like), do not seed.")
    eps = (z - mu.double()) / torch.exp(logvar.double() / 2)
    expect_distribution(eps, ndtr, "(z - mu) / exp(logvar / 2)", "N(0, 1)",
                        "eps must be standard normal (torch.randn_like(mu)) and sigma = exp(logvar / 2)")
    centred = eps - eps.mean(dim=0)  # (5000, 4)
    corr = (centred.T @ centred) / torch.outer(centred.norm(dim=0), centred.norm(dim=0))  # (4, 4)
    worst = (corr - torch.eye(4, dtype=corr.dtype)).abs().max().item()
    if worst > 5 / 5000 ** 0.5:  # independent columns exceed it with probability below 4e-6 (6 pairs)
        fail(f"the noise of two latent dimensions is correlated ({worst:.3f}; independent draws stay within "
             f"{5 / 5000 ** 0.5:.3f}): eps needs one independent draw per entry and per call, torch.randn_like(mu).")


@check(points=1, function="gaussian_kl")
def test_gaussian_kl_wide_variances(student, reference):
    """KL(q || p) on 6 rows of 5 dimensions with log-variances from -4 to 4"""
    case = reference.case("gaussian_kl_wide")
    expect_case(student.gaussian_kl(*case.args).value, case, "gaussian_kl", judge.GAUSSIAN_KL_FORMULA)


@check(points=1, function="importance_weighted_nll")
def test_iw_nll_on_another_model(student, reference):
    """is -L_10 on another seeded VAE where the bound, the ELBO and the usual mistakes differ"""
    case = reference.case("iw_nll_other_model")
    expect_case(student.importance_weighted_nll(*case.args).value, case, "importance_weighted_nll(model, x, 10)",
                judge.IW_FORMULA, scalar=True)


@check(points=1, function="vae_loss")
def test_vae_loss_large_logits(student, reference):
    """is right and finite for logits as large as |1000|, on 30 pixels and 4 latent dimensions"""
    case = reference.case("vae_loss_large_logits")
    expect_case(student.vae_loss(*case.args).value, case, "vae_loss", judge.VAE_LOSS_FORMULA, scalar=True)


@check(points=1, function="vae_loss")
def test_vae_loss_trains_a_vae(student):
    """40 SGD steps on it lower a tiny VAE's true negative ELBO"""
    generator = torch.Generator().manual_seed(32)
    x = torch.bernoulli(torch.full((8, 12), 0.3), generator=generator)  # (8, 12) binary images
    eps = torch.randn(64, 8, 2, generator=generator)  # (S, N, Z) fixed noise for the evaluation
    before, after = judge.train_on_student_loss(student, x, eps, steps=40, lr=0.05, seed=0)
    if not after < before - 0.5:
        fail(f"40 SGD steps on your loss moved the true negative ELBO from {before:.2f} to {after:.2f} "
             "nats (it should fall by more than 0.5): the loss must be the BCE summed over pixels plus "
             "the KL, averaged over the batch.")


@check(points=1, function="VAE")
def test_vae_layers_other_sizes(student):
    """VAE(30, 12, 2) has exactly the specified layers, (N, 2) codes and (N, 30) logits"""
    x = vae.binary_images(4, 30, seed=33)  # (4, 30)
    summary = student.probe("vae_summary", "VAE", 30, 12, 2, method="forward", inputs=x).value
    expect_module(summary, "VAE(30, 12, 2)")
    want = sorted(["Linear(in_features=30, out_features=12)", "ReLU()", "Linear(in_features=12, out_features=2)",
                   "Linear(in_features=12, out_features=2)", "Linear(in_features=2, out_features=12)", "ReLU()",
                   "Linear(in_features=12, out_features=30)"])
    if sorted(summary["layers"]) != want:
        fail(f"VAE(30, 12, 2) has the layers {sorted(summary['layers'])}; expected {want}: "
             "use input_size, hidden_size and latent_size, one hidden layer each side.")
    if summary["error"]:
        fail(f"VAE(30, 12, 2).forward failed: {summary['error']}: use input_size, hidden_size and latent_size "
             "for every layer's size.")
    output = summary["output"]
    shapes = tuple(tuple(t.shape) if isinstance(t, torch.Tensor) else "not a tensor" for t in output) if isinstance(
        output, tuple) else (tuple(output.shape) if isinstance(output, torch.Tensor) else "not a tensor")
    if shapes != ((4, 30), (4, 2), (4, 2)):
        fail(f"VAE(30, 12, 2).forward returned shapes {shapes}; expected the tuple (logits, mu, logvar) of shapes "
             "(4, 30), (4, 2), (4, 2): return self.decode(z), mu, logvar.")


def _mismatched_case():
    weight = torch.tensor([[0.8, -0.5], [-1.0, 0.3], [0.2, 0.9], [0.5, 0.5], [-0.7, -0.2]])  # (5, 2)
    bias = torch.tensor([0.5, -1.0, 0.0, 1.0, -0.5])  # (5,)
    mu_q, logvar_q = torch.tensor([0.4, -0.3]), torch.tensor([-0.2, -0.1])  # q wider than half the prior's variance
    x = torch.tensor([[1.0, 0.0, 1.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0, 1.0], [1.0, 1.0, 0.0, 0.0, 1.0]])  # (3, 5)
    return x, weight, bias, mu_q, logvar_q


def _estimates(student, x, weight, bias, mu_q, logvar_q, ks, repeats, seed):
    """The judge's loop: one iw_estimate probe call per estimate."""
    def run(*args, **kwargs):
        return student.probe("iw_estimate", "importance_weighted_nll", *args, **kwargs).value

    return judge.iw_estimates(run, x, weight, bias, mu_q, logvar_q, ks=ks, repeats=repeats, seed=seed)["estimates"]


@check(points=1, function="importance_weighted_nll")
def test_iw_nll_k1_is_the_negative_elbo_and_large_k_the_nll(student):
    """averages to the negative ELBO for k = 1 and nears the exact -log p(x) for k = 2000"""
    x, weight, bias, mu_q, logvar_q = _mismatched_case()
    weight = torch.zeros_like(weight)  # the decoder ignores z: -log p(x) and the ELBO have closed forms
    exact = judge.log_marginal_constant_decoder(bias, x).mean().item()
    nelbo = exact + judge.kl_to_prior(mu_q, logvar_q)  # the gap of the ELBO is KL(q || posterior = prior)
    # Ten copies of the 3 images per call and 30 calls per k: the 900 per-image estimates of 300 calls on
    # the 3 images, in fewer round trips (the grader runs this loop one call at a time).
    est = _estimates(student, x.repeat(10, 1), weight, bias, mu_q, logvar_q, ks=(1, 2000), repeats=30, seed=100)
    k1 = est[0]
    error = 5 * k1.std().item() / len(k1) ** 0.5 + 1e-4  # five standard errors of the mean over repeats
    if abs(k1.mean().item() - nelbo) > error:
        fail(f"with k = 1 your estimates average {k1.mean().item():.4f}; expected the negative ELBO "
             f"{nelbo:.4f} (+-{error:.4f}): check the signs of log p(z) and log q(z|x) in log w, and "
             "sigma = exp(logvar / 2).")
    if abs(est[1].mean().item() - exact) > 0.01:
        fail(f"with k = 2000 your estimate is {est[1].mean().item():.4f}; expected close to -log p(x) = "
             f"{exact:.4f}: average the weights with logsumexp(log w, dim=0) - log k.")


@check(points=1, function="importance_weighted_nll")
def test_iw_nll_falls_with_k(student):
    """on average the estimate falls from k = 1 to 10 to 100, as the bound tightens"""
    x, weight, bias, mu_q, logvar_q = _mismatched_case()
    weight = weight * 3  # a decoder that depends strongly on z: q is far from the posterior
    # Ten copies of the 3 images per call, 6 calls per k: as many per-image estimates as 60 calls on the 3.
    means = _estimates(student, x.repeat(10, 1), weight, bias, mu_q, logvar_q, ks=(1, 10, 100), repeats=6,
                       seed=1000).mean(dim=1)  # (3,)
    if not (means[0] > means[1] > means[2]):
        fail(f"the mean estimates for k = 1, 10, 100 are {[round(m, 3) for m in means.tolist()]}; the "
             "importance-weighted bound tightens with k, so -L_k must fall: combine the k log-weights "
             "of each image with logsumexp over the samples, not a mean of log-weights.")
