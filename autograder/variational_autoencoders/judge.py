"""The VAE assignment's grader side: correct values, the usual mistakes and the loops whose verdict matters.

Never shipped and never imported beside student code (see ``vizgen.author.support``). Hidden checks
reach it with ``assignment_judge(__file__)``; ``vizgen references build`` calls the mistake functions
named by public and hidden cases (``mistakes="vae_loss_candidates"``, ``"pca_candidates"``) and stores
their values with the case.

The negative ELBO (Kingma and Welling 2014, "Auto-Encoding Variational Bayes", ICLR, eq. 10 with a
Bernoulli decoder and the Gaussian KL of their Appendix B):
    -ELBO(x) = sum_pixels BCE(logits, x) + 1/2 sum_latent (mu^2 + exp(logvar) - 1 - logvar).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from vizgen.author import expect_gradients, expect_input_unchanged, expect_match, expect_shape, expect_tensor, fail
from vizgen.author.support import support_module

probes = support_module(Path(__file__).with_name("probes.py"))
VAE_LOSS_FORMULA, PCA_FORMULA, IW_FORMULA = probes.VAE_LOSS_FORMULA, probes.PCA_FORMULA, probes.IW_FORMULA
GAUSSIAN_KL_FORMULA = probes.GAUSSIAN_KL_FORMULA


# The negative ELBO and its usual mistakes.


def _bce(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Per-image BCE summed over pixels ``(N,)``, stable for any logit (the -log p(x|z) of a Bernoulli decoder)."""
    return F.binary_cross_entropy_with_logits(logits.double(), x.double(), reduction="none").sum(dim=-1)


def _kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Per-image KL(N(mu, exp(logvar)) || N(0, I)) summed over latent dimensions ``(N,)`` (Kingma and
    Welling 2014, App. B)."""
    mu, logvar = mu.double(), logvar.double()
    return 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(dim=-1)


def true_negative_elbo(logits: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> float:
    """The negative ELBO in nats per image (float64), the grader's own: BCE over pixels + KL, batch mean."""
    return (_bce(logits, x) + _kl(mu, logvar)).mean().item()


def vae_loss_candidates(logits: torch.Tensor, x: torch.Tensor, mu: torch.Tensor,
                        logvar: torch.Tensor) -> dict[str, float]:
    """The correct negative ELBO first, then the values of the usual mistakes on the same inputs."""
    logits, x, mu, logvar = (t.detach().double() for t in (logits, x, mu, logvar))
    bce, kl = _bce(logits, x), _kl(mu, logvar)
    probs = torch.sigmoid(logits)
    kl_sum = 0.5 * (mu**2 + logvar.exp() - 1 - logvar)  # (N, D)
    return {
        "correct": (bce + kl).mean().item(),
        "the logits were passed through a sigmoid before the loss on logits (probabilities passed as logits)": (
            _bce(probs, x) + kl).mean().item(),
        "the logits were treated as probabilities (use binary_cross_entropy_with_logits, not binary_cross_entropy)": (
            F.binary_cross_entropy(logits.clamp(0, 1), x, reduction="none").sum(dim=1) + kl).mean().item(),
        "the reconstruction term is a mean over pixels instead of a sum over the 784 pixels": (
            bce / x.shape[1] + kl).mean().item(),
        "the KL term is a mean over latent dimensions instead of a sum": (bce + kl_sum.mean(dim=1)).mean().item(),
        "the KL term has the wrong sign (the ELBO subtracts the KL; the loss adds it)": (bce - kl).mean().item(),
        "the KL term lacks its factor 1/2": (bce + 2 * kl).mean().item(),
        "exp(logvar) was used as the standard deviation (it is the variance; sigma = exp(logvar / 2))": (
            bce + 0.5 * (mu**2 + (2 * logvar).exp() - 1 - 2 * logvar).sum(dim=1)).mean().item(),
        "the KL term is missing": bce.mean().item(),
        "the loss is a sum over the batch instead of a mean": (bce + kl).sum().item(),
        "the loss is a mean over every pixel and latent value": (
            F.binary_cross_entropy_with_logits(logits, x) + kl_sum.mean()).item(),
    }


# Training a tiny VAE on the student's loss: the loop runs here, the student's process only
# evaluates the loss and its gradient (student.differentiate).


class TinyEncoderVAE(nn.Module):
    """A small seeded VAE (one tanh layer each side) that the grader trains on a student's loss."""

    def __init__(self, pixels: int = 12, hidden: int = 16, latent: int = 2):
        super().__init__()
        self.enc = nn.Linear(pixels, hidden)
        self.mu, self.logvar = nn.Linear(hidden, latent), nn.Linear(hidden, latent)
        self.dec = nn.Sequential(nn.Linear(latent, hidden), nn.Tanh(), nn.Linear(hidden, pixels))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = torch.tanh(self.enc(x))  # (N, hidden)
        return self.mu(h), self.logvar(h)  # (N, latent) each


def tiny_vae(seed: int, pixels: int = 12, hidden: int = 16, latent: int = 2) -> TinyEncoderVAE:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return TinyEncoderVAE(pixels, hidden, latent)


@torch.no_grad()
def monte_carlo_nelbo(model: TinyEncoderVAE, x: torch.Tensor, eps: torch.Tensor) -> float:
    """The true negative ELBO of ``model`` on ``x`` ``(N, P)``, averaged over the fixed noise ``eps``
    ``(S, N, latent)``."""
    mu, logvar = model.encode(x)  # (N, latent)
    z = mu + torch.exp(logvar / 2) * eps  # (S, N, latent)
    bce = _bce(model.dec(z), x.expand(len(eps), *x.shape)).mean(dim=0)  # (N,)
    return (bce + _kl(mu, logvar)).mean().item()


def _loss_gradients(call, sent: tuple[torch.Tensor, ...], positions: tuple[int, ...]) -> list[torch.Tensor]:
    """The student's d loss / d (logits, mu, logvar), checked to be usable; else fail saying what to fix."""
    if "why" in call.gradients:
        fail(f"vae_loss returned a {type(call.value).__name__} without a gradient ({call.gradients['why']}): return "
             "a scalar tensor built from logits, mu and logvar with torch operations (no .item(), no .detach()).")
    grads = [call.gradients[call.params[i]] for i in positions]
    for name, grad, tensor in zip(("logits", "mu", "logvar"), grads, sent):
        if not isinstance(grad, torch.Tensor) or grad.shape != tensor.shape or not torch.isfinite(grad).all():
            fail(f"the gradient of vae_loss with respect to {name} is not finite: compute the BCE with "
                 "F.binary_cross_entropy_with_logits (never log(sigmoid(x))) and the KL with logvar.exp().")
    return [g.to(t.dtype) for g, t in zip(grads, sent)]


def train_on_student_loss(student, x: torch.Tensor, eps: torch.Tensor, steps: int = 40, lr: float = 0.05,
                          seed: int = 0) -> tuple[float, float]:
    """Train a tiny VAE with SGD on the student's ``vae_loss(logits, x, mu, logvar)``: the grader draws
    z = mu + exp(logvar / 2) * noise (fresh noise each step), asks the student's process for the loss's
    gradient with respect to logits, mu and logvar, backpropagates it through its own model and steps.
    Returns the true negative ELBO before and after (``monte_carlo_nelbo`` with the fixed noise ``eps``)."""
    model = tiny_vae(seed, pixels=x.shape[1], latent=eps.shape[2])
    before = monte_carlo_nelbo(model, x, eps)
    noise = torch.Generator().manual_seed(seed + 1)
    for step in range(steps):
        mu, logvar = model.encode(x)  # (N, latent) each
        z = mu + torch.exp(logvar / 2) * torch.randn(mu.shape, generator=noise)  # (N, latent)
        logits = model.dec(z)  # (N, P)
        sent = tuple(t.detach().requires_grad_() for t in (logits, mu, logvar))
        call = student.differentiate("vae_loss", sent[0], x, sent[1], sent[2], wrt=(0, 2, 3), verify=step == 0)
        grads = _loss_gradients(call, sent, (0, 2, 3))
        if step == 0:  # the gradients come from the student's process: they must be the loss's own
            expect_gradients(call, "vae_loss", "compute the loss from logits, mu and logvar with torch operations only")
        model.zero_grad(set_to_none=True)
        torch.autograd.backward([logits, mu, logvar], grads)
        with torch.no_grad():
            for p in model.parameters():
                p -= lr * p.grad
    return before, monte_carlo_nelbo(model, x, eps)


# The importance-weighted bound on a TinyVAE, where it has closed forms.


def log_marginal_constant_decoder(bias: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """-log p(x) per image ``(N,)`` for a decoder that ignores z: the BCE of ``bias`` against x, summed."""
    return _bce(bias.expand_as(x), x)


def kl_to_prior(mu_q: torch.Tensor, logvar_q: torch.Tensor) -> float:
    """KL(N(mu_q, exp(logvar_q)) || N(0, I)) for one ``(D,)`` Gaussian, in nats."""
    return _kl(mu_q[None], logvar_q[None]).item()


def iw_estimates(run: Callable[..., dict], x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor,
                 mu_q: torch.Tensor, logvar_q: torch.Tensor, ks: tuple = (1,), repeats: int = 1, seed: int = 0) -> dict:
    """The grader's loop over k and repeats: ``run(x, weight, bias, mu_q, logvar_q, k=k, seed=s)`` is one
    ``iw_estimate`` probe call (``student.probe(...).value`` in checks). Returns ``estimates (len(ks),
    repeats)`` float64, whether any estimate required grad and whether any call changed the model; fails
    when a value is not a scalar tensor."""
    out = torch.empty(len(ks), repeats, dtype=torch.float64)
    tracked = changed = False
    sent = {"decoder.weight": weight, "decoder.bias": bias, "mu_q": mu_q, "logvar_q": logvar_q}
    for i, k in enumerate(ks):
        for r in range(repeats):
            record = run(x, weight, bias, mu_q, logvar_q, k=k, seed=seed + i * repeats + r)
            value = record["value"]
            if value is None or value.numel() != 1:
                got = f"a tensor of shape {record['shape']}" if value is not None else f"a {record['type']}"
                fail(f"importance_weighted_nll returned {got}; expected a scalar tensor, the mean over the images "
                     "of -(logsumexp(log w, dim=0) - log k).")
            out[i, r] = float(value.reshape(()))
            tracked |= bool(record["requires_grad"])
            after = record["state_after"]
            changed |= bool(record["training_after"]) or set(after) != set(sent) or any(
                not torch.equal(after[name], tensor.to(after[name].dtype)) for name, tensor in sent.items())
    return {"estimates": out, "requires_grad": tracked, "model_changed": changed}


def _iw_log_weights(model: nn.Module, x: torch.Tensor, k: int, generator: torch.Generator, sigma_power: float = 0.5,
                    q_sign: float = -1.0, q_logvar: bool = True) -> torch.Tensor:
    """log w ``(k, N)`` in float64 for one draw of k codes per image, and its usual mistakes: sigma =
    exp(``sigma_power`` * logvar), log q(z|x) added (``q_sign`` +1) or without its logvar term."""
    with torch.no_grad():
        mu, logvar = (t.double() for t in model.encode(x))  # (N, Z) each
        eps = torch.randn(k, *mu.shape, generator=generator, dtype=torch.float64)  # (k, N, Z)
        z = mu + torch.exp(sigma_power * logvar) * eps  # (k, N, Z)
        logits = model.decode(z.float()).double()  # (k, N, D)
        log_px_z = -_bce(logits, x.double().expand_as(logits))  # (k, N)
        log_q = -0.5 * (eps.pow(2) + (logvar if q_logvar else 0)).sum(-1)  # (k, N), constants cancel with log p(z)
        return log_px_z - 0.5 * z.pow(2).sum(-1) + q_sign * log_q


def iw_nll_candidates(model, x: torch.Tensor, k: int, repeats: int = 10) -> dict[str, float]:
    """-L_k of ``model`` (a ModelSpec of probes' models, or a module) on ``x`` for ``k`` samples and the usual
    mistakes' values, each its expectation over ``repeats`` seeded draws (their Monte Carlo error is far
    below the cases' tolerances)."""
    if not isinstance(model, nn.Module):
        model = probes.SUPPORT.build_model(model)
    generator = torch.Generator().manual_seed(2016)
    log_k = math.log(k)
    draws: dict[str, list[float]] = {}
    for _ in range(repeats):
        log_w = _iw_log_weights(model, x, k, generator)  # (k, N)
        bound = torch.logsumexp(log_w, dim=0) - log_k  # (N,)
        values = {
            "correct": -bound.mean(),
            "the log-weights were averaged (that is the negative ELBO, L_1); average the weights themselves: "
            "logsumexp over the k samples (dim 0), minus log k": -log_w.mean(),
            "log k is missing: log (1/k) sum_i w_i = logsumexp(log w) - log k": -(bound + log_k).mean(),
            "the sign is flipped: return -L_k, the negative log-likelihood estimate (positive nats)": bound.mean(),
            "log q(z|x) was added to log w; the weight divides by q: log w = log p(x|z) + log p(z) - log q(z|x)": -(
                torch.logsumexp(_iw_log_weights(model, x, k, generator, q_sign=1.0), dim=0) - log_k).mean(),
            "exp(logvar) was used as the standard deviation of q (it is the variance; sigma = exp(logvar / 2))": -(
                torch.logsumexp(_iw_log_weights(model, x, k, generator, sigma_power=1.0), dim=0) - log_k).mean(),
            "log q(z|x) lacks its -logvar / 2 term (log N(z; mu, sigma^2) = -eps^2 / 2 - logvar / 2 - log(2 pi) / 2 "
            "per dimension)": -(torch.logsumexp(_iw_log_weights(model, x, k, generator, q_logvar=False), dim=0)
                                - log_k).mean(),
        }
        for name, value in values.items():
            draws.setdefault(name, []).append(float(value))
    return {name: float(np.mean(values)) for name, values in draws.items()}


# The closed-form KL of two diagonal Gaussians (the gap of the ELBO when the posterior is Gaussian).


def gaussian_kl_candidates(mu_q: torch.Tensor, logvar_q: torch.Tensor, mu_p: torch.Tensor,
                           logvar_p: torch.Tensor) -> dict[str, torch.Tensor]:
    """KL(N(mu_q, exp(logvar_q)) || N(mu_p, exp(logvar_p))) per row ``(N,)`` (float64) first, then the usual
    mistakes' values on the same inputs."""
    mu_q, logvar_q, mu_p, logvar_p = (t.detach().double() for t in (mu_q, logvar_q, mu_p, logvar_p))

    def kl(mq, lq, mp, lp):  # per dimension (N, Z)
        return 0.5 * (lp - lq + (lq.exp() + (mq - mp) ** 2) / lp.exp() - 1)

    terms = kl(mu_q, logvar_q, mu_p, logvar_p)  # (N, Z)
    return {
        "correct": terms.sum(-1),
        "the two Gaussians are swapped: this is KL(p || q); the gap of the ELBO is KL(q || p), the expectation "
        "under q": kl(mu_p, logvar_p, mu_q, logvar_q).sum(-1),
        "the factor 1/2 is missing": 2 * terms.sum(-1),
        "exp(logvar) was used as the standard deviation (it is the variance)": kl(
            mu_q, 2 * logvar_q, mu_p, 2 * logvar_p).sum(-1),
        "the KL is a mean over the latent dimensions; sum it over them": terms.mean(-1),
        "the -1 per latent dimension is missing": (terms + 0.5).sum(-1),
        "(mu_q - mu_p)^2 was not divided by p's variance exp(logvar_p)": (
            terms + 0.5 * (mu_q - mu_p) ** 2 * (1 - 1 / logvar_p.exp())).sum(-1),
        "the log-variances enter with the wrong sign: the term is log(sigma_p^2 / sigma_q^2) = logvar_p - logvar_q": (
            terms + (logvar_q - logvar_p)).sum(-1),
    }


# PCA: an independent reference (the covariance's eigenvectors) and the usual mistakes.


def pca_reference(x: torch.Tensor, k: int) -> np.ndarray:
    """The rank-k PCA reconstruction by another route than the SVD: the top-k eigenvectors of the
    covariance matrix (float64 NumPy). tests/library/test_vae.py checks that it equals scikit-learn's
    ``PCA(k).inverse_transform(PCA(k).transform(x))``."""
    data = x.double().numpy()  # (n, d)
    mean = data.mean(axis=0)  # (d,)
    _, vectors = np.linalg.eigh(np.cov(data - mean, rowvar=False))  # eigenvalues ascending, (d, d)
    top = vectors[:, ::-1][:, :k]  # (d, k)
    return mean + (data - mean) @ top @ top.T  # (n, d)


def pca_candidates(X: torch.Tensor, k: int) -> dict[str, torch.Tensor]:
    """The correct reconstruction first, then the usual mistakes' reconstructions of the same X."""
    data = X.detach().double()  # (n, d)
    mean = data.mean(dim=0, keepdim=True)  # (1, d)
    centred_vh = torch.linalg.svd(data - mean, full_matrices=False).Vh  # (min(n, d), d)
    raw_vh = torch.linalg.svd(data, full_matrices=False).Vh[:k]  # (k, d) directions of the uncentred data
    top = centred_vh[:k]  # (k, d)
    out = {
        "correct": torch.from_numpy(pca_reference(data, k).copy()),
        "PCA without centring (the SVD of X, not of X - mean): subtract the mean row before the SVD and add it "
        "back after projecting": data @ raw_vh.T @ raw_vh,
        "the mean row was not added back after projecting: return mean + (X - mean) @ V_k @ V_k.T":
            (data - mean) @ top.T @ top,
        "X itself was projected on the directions (not X - mean) and the mean was not added back: return "
        "mean + (X - mean) @ V_k @ V_k.T": data @ top.T @ top,
    }
    if centred_vh.shape[0] == data.shape[1]:  # Vh square: its first k columns fit where its rows should be
        columns = centred_vh[:, :k]  # (d, k)
        out["the first k columns of Vh were taken; the directions are its first k rows (V_k = Vh[:k].T)"] = (
            mean + (data - mean) @ columns @ columns.T)
    return out


def expect_pca(call, x: torch.Tensor, k: int) -> None:
    """The student's ``pca_reconstruct(x, k)`` call equals the reference, x unchanged; else name the mistake it
    reproduces, or say what differs."""
    name = f"pca_reconstruct(X, {k})"
    recon = expect_tensor(call.value, name)
    expect_shape(recon, tuple(x.shape), name, hint="return one reconstructed row per row of X")
    candidates = pca_candidates(x, k)
    correct = candidates.pop("correct")
    expect_match(recon, correct, candidates, name, PCA_FORMULA, atol=1e-6, rtol=1e-6)
    expect_input_unchanged(call, "X")
