"""Hidden checks: PCA edge cases, exact layers for other sizes, noise statistics, large logits and
the reduction, training on the loss, and the importance-weighted bound's behaviour in k.

The correct values, the usual mistakes and the loops (training a tiny VAE on the student's loss, the
importance-weighted estimates over k and repeats) are the judge's: the student's process only answers
single calls."""

import torch

from vizgen.author import ReferenceCase, assignment_judge, assignment_probes, check, expect_case, expect_close, \
    expect_module, expect_tensor, fail

vae = assignment_probes(__file__)  # autograder/variational_autoencoders/probes.py
judge = assignment_judge(__file__)  # autograder/variational_autoencoders/judge.py (grader only)


def _large_logits():
    generator = torch.Generator().manual_seed(31)
    logits = torch.randn(7, 30, generator=generator) * 300  # (7, 30): |logits| up to ~1000
    x = torch.bernoulli(torch.full((7, 30), 0.5), generator=generator)  # (7, 30)
    mu, logvar = torch.randn(7, 4, generator=generator), torch.randn(7, 4, generator=generator)  # (7, 4) each
    return [logits, x, mu, logvar], {}


REFERENCE_CASES = [
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
def test_reparametrize_moments(student):
    """over 100,000 draws per dimension z has mean mu and standard deviation exp(logvar / 2), fresh each call"""
    mu = torch.tensor([1.0, -2.0, 0.0]).repeat(100_000, 1)  # (100000, 3)
    logvar = torch.tensor([0.0, 1.0, -2.0]).repeat(100_000, 1)  # (100000, 3)
    first = expect_tensor(student.reparametrize(mu, logvar).value, "z").double()
    second = expect_tensor(student.reparametrize(mu, logvar).value, "z").double()
    if torch.equal(first, second):
        fail("two calls returned the same z: draw fresh noise (torch.randn_like), do not seed.")
    mean, std = first.mean(dim=0), first.std(dim=0)  # (3,) each
    want_std = torch.exp(torch.tensor([0.0, 1.0, -2.0], dtype=torch.float64) / 2)
    if torch.allclose(std, torch.exp(torch.tensor([0.0, 1.0, -2.0], dtype=torch.float64)), rtol=0.02) :
        fail(f"z has standard deviations {[round(s, 3) for s in std.tolist()]} = exp(logvar): "
             "logvar is the log-variance, so sigma = exp(logvar / 2).")
    # Standard errors: sigma / sqrt(1e5) <= 0.0052 for the mean, ~0.25% for the standard deviation.
    expect_close(mean, torch.tensor([1.0, -2.0, 0.0]), "the mean of z", atol=0.03, rtol=0.0,
                 hint="z = mu + sigma * eps with eps ~ N(0, I) (torch.randn_like, not torch.rand_like)")
    expect_close(std, want_std, "the standard deviation of z", atol=0.0, rtol=0.02,
                 hint="sigma = exp(logvar / 2) and eps ~ N(0, I)")


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
