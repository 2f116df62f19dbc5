"""The variational autoencoder assignment's support module: its probes and the named mistakes.

Probes run next to the student's functions (registered by ``SUPPORT`` below) and
return plain summaries: a VAE's method shapes, the gradients that reach ``mu`` and ``logvar``
through ``reparametrize``, importance-weighted estimates on a tiny model whose likelihood has a
closed form, and a tiny VAE's outputs before and after training on the student's loss.  ``vae_loss_candidates`` recomputes the usual wrong negative ELBOs so
that a wrong value names its likely bug.

The negative ELBO (Kingma and Welling 2014, "Auto-Encoding Variational Bayes", ICLR, eq. 10 with a
Bernoulli decoder and the Gaussian KL of their Appendix B):
    -ELBO(x) = sum_pixels BCE(logits, x) + 1/2 sum_latent (mu^2 + exp(logvar) - 1 - logvar).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from vizgen.author.support import Support


VAE_LOSS_FORMULA = ("F.binary_cross_entropy_with_logits(logits, x, reduction='sum') "
                    "- 0.5 * torch.sum(1 + logvar - mu ** 2 - logvar.exp()), divided by the batch size")


def _bce(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Per-image BCE summed over pixels ``(N,)``, stable for any logit (the -log p(x|z) of a Bernoulli decoder)."""
    return F.binary_cross_entropy_with_logits(logits.double(), x.double(), reduction="none").sum(dim=1)


def _kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Per-image KL(N(mu, exp(logvar)) || N(0, I)) summed over latent dimensions ``(N,)`` (Kingma and Welling 2014, App. B)."""
    mu, logvar = mu.double(), logvar.double()
    return 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(dim=1)


def true_negative_elbo(logits: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> float:
    """The negative ELBO in nats per image (float64), the grader's own: BCE over pixels + KL, batch mean."""
    return (_bce(logits, x) + _kl(mu, logvar)).mean().item()


def vae_loss_candidates(logits: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> dict[str, float]:
    """The correct negative ELBO first, then the values of the usual mistakes on the same inputs."""
    logits, x, mu, logvar = (t.double() for t in (logits, x, mu, logvar))
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


def vae_summary(build: Callable, *args, batch: int = 3, **kwargs) -> dict:
    """``module_summary`` of ``build(*args)`` plus the shapes of ``encode``, ``decode`` and ``forward``
    on a seeded batch, and the decoder's smallest output (a logit can be negative, a probability not)."""
    from vizgen.author.probes import module_summary  # probes.py registers this module's probes: import late

    summary = module_summary(build, *args, **kwargs)
    summary.update({"encode": (), "decode": (), "forward": (), "decode_min": float("nan"), "error": ""})
    if not summary["is_module"]:
        return summary
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = build(*args, **kwargs)
        pixels = args[0] if args else kwargs.get("input_size", 784)  # the constructor's input_size
        x = torch.bernoulli(torch.full((batch, pixels), 0.3))  # (B, input_size)
        try:
            with torch.no_grad():
                mu, logvar = model.encode(x)  # (B, D) each
                summary["encode"] = (tuple(mu.shape), tuple(logvar.shape))
                logits = model.decode(torch.randn(batch, mu.shape[1]) * 3)  # (B, 784)
                summary["decode"], summary["decode_min"] = tuple(logits.shape), float(logits.min())
                summary["forward"] = tuple(tuple(t.shape) for t in model(x))
        except Exception as error:  # noqa: BLE001 - a wrong architecture fails here; report why
            summary["error"] = f"{type(error).__name__}: {error}"[:300]
    return summary


def reparametrize_gradients(reparametrize: Callable, mu: torch.Tensor, logvar: torch.Tensor) -> dict:
    """Call ``reparametrize(mu, logvar)`` on leaves that require grad, backpropagate ``z.sum()``; return
    ``z`` and the gradients of ``mu`` and ``logvar`` (zeros where none arrived) and whether ``z`` had a graph."""
    mu, logvar = mu.detach().requires_grad_(), logvar.detach().requires_grad_()
    z = reparametrize(mu, logvar)
    if not isinstance(z, torch.Tensor):
        return {"z": None, "type": type(z).__name__}
    has_graph = z.requires_grad
    grads = torch.autograd.grad(z.sum(), [mu, logvar], allow_unused=True) if has_graph else (None, None)
    mu_grad, logvar_grad = (g if g is not None else torch.zeros_like(mu) for g in grads)
    return {"z": z.detach(), "type": "Tensor", "has_graph": has_graph, "mu_grad": mu_grad, "logvar_grad": logvar_grad}


class TinyVAE(nn.Module):
    """A VAE on a few pixels whose parts are known: q(z|x) = N(mu_q, exp(logvar_q)) whatever x is, and a
    linear Bernoulli decoder ``logits = z @ weight.T + bias``. With ``weight = 0`` the decoder ignores
    z, so log p(x) = -BCE(bias, x) exactly, and with ``mu_q = 0, logvar_q = 0`` q is the true
    posterior: every importance weight equals p(x)."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor, mu_q: torch.Tensor, logvar_q: torch.Tensor):
        super().__init__()
        self.decoder = nn.Linear(weight.shape[1], weight.shape[0])
        with torch.no_grad():
            self.decoder.weight.copy_(weight)  # (P, D)
            self.decoder.bias.copy_(bias)  # (P,)
        self.register_buffer("mu_q", mu_q.clone())  # (D,)
        self.register_buffer("logvar_q", logvar_q.clone())  # (D,)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        shape = (len(x), len(self.mu_q))
        return self.mu_q.expand(shape).clone(), self.logvar_q.expand(shape).clone()  # (N, D) each

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)  # (..., P) logits

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = self.encode(x)
        noise = torch.randn_like(mu)  # (N, D)
        code = mu + noise * (0.5 * logvar).exp()  # (N, D): the reparametrisation (the students' to write)
        return self.decoder(code), mu, logvar


def iw_estimates(iw_nll: Callable, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, mu_q: torch.Tensor,
                 logvar_q: torch.Tensor, ks: tuple = (1,), repeats: int = 1, seed: int = 0) -> dict:
    """``iw_nll(model, x, k)`` on a ``TinyVAE``, ``repeats`` times for each k: ``estimates (len(ks), repeats)``
    float64, whether any carried a gradient and whether the model (eval mode) changed, or the type returned when it is not a scalar tensor."""
    model = TinyVAE(weight, bias, mu_q, logvar_q).eval()
    out = torch.empty(len(ks), repeats, dtype=torch.float64)
    tracked = False  # did any estimate carry a gradient graph (the bound needs none)?
    params = [p.detach().clone() for p in model.parameters()]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for i, k in enumerate(ks):
            for r in range(repeats):
                value = iw_nll(model, x, k)
                if not isinstance(value, torch.Tensor) or value.numel() != 1:
                    shape = tuple(value.shape) if isinstance(value, torch.Tensor) else None
                    return {"estimates": None, "type": type(value).__name__, "shape": shape}
                tracked |= value.requires_grad
                out[i, r] = float(value.detach())
    changed = model.training or any(not torch.equal(a, b) for a, b in zip(params, model.parameters()))
    return {"estimates": out, "type": "Tensor", "shape": (), "requires_grad": tracked, "model_changed": changed}


def log_marginal_constant_decoder(bias: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """-log p(x) per image ``(N,)`` for a decoder that ignores z: the BCE of ``bias`` against x, summed."""
    return _bce(bias.expand_as(x), x)


def kl_to_prior(mu_q: torch.Tensor, logvar_q: torch.Tensor) -> float:
    """KL(N(mu_q, exp(logvar_q)) || N(0, I)) for one ``(D,)`` Gaussian, in nats."""
    return _kl(mu_q[None], logvar_q[None]).item()


def _tiny_vae(seed: int, pixels: int = 12, hidden: int = 16, latent: int = 2) -> nn.Module:
    class Tiny(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = nn.Linear(pixels, hidden)
            self.mu, self.logvar = nn.Linear(hidden, latent), nn.Linear(hidden, latent)
            self.dec = nn.Sequential(nn.Linear(latent, hidden), nn.Tanh(), nn.Linear(hidden, pixels))

        def encode(self, x):
            h = torch.tanh(self.enc(x))  # (N, hidden)
            return self.mu(h), self.logvar(h)  # (N, latent) each

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return Tiny()


def train_on_vae_loss(vae_loss: Callable, x: torch.Tensor, eps: torch.Tensor, steps: int = 40, lr: float = 0.05,
                      seed: int = 0) -> dict:
    """Train a tiny VAE with SGD on the student's ``vae_loss(logits, x, mu, logvar)`` (the grader draws
    z = mu + exp(logvar / 2) * eps with fresh noise each step); return the logits, mu and logvar before and
    after on ``x`` ``(N, P)`` with the fixed noise ``eps`` ``(S, N, latent)``, for the grader's own NELBO."""
    model = _tiny_vae(seed, pixels=x.shape[1], latent=eps.shape[2])

    @torch.no_grad()
    def outputs() -> dict:
        mu, logvar = model.encode(x)  # (N, latent)
        z = mu + torch.exp(logvar / 2) * eps  # (S, N, latent)
        return {"logits": model.dec(z), "mu": mu, "logvar": logvar}  # logits (S, N, P)

    before = outputs()
    noise = torch.Generator().manual_seed(seed + 1)
    for _ in range(steps):
        mu, logvar = model.encode(x)
        z = mu + torch.exp(logvar / 2) * torch.randn(mu.shape, generator=noise)  # (N, latent)
        loss = vae_loss(model.dec(z), x, mu, logvar)
        grads = torch.autograd.grad(loss, list(model.parameters()))  # plain SGD: torch.optim would import
        with torch.no_grad():  # torch._dynamo (seconds) in the student's process
            for p, g in zip(model.parameters(), grads):
                p -= lr * g
    return {"before": before, "after": outputs()}


def monte_carlo_nelbo(outputs: dict, x: torch.Tensor) -> float:
    """The true negative ELBO of ``train_on_vae_loss``'s outputs, averaged over its S noise draws."""
    logits = outputs["logits"]  # (S, N, P)
    bce = torch.stack([_bce(l, x) for l in logits]).mean(dim=0)  # (N,)
    return (bce + _kl(outputs["mu"], outputs["logvar"])).mean().item()


def low_rank_data(n: int, d: int, rank: int, seed: int) -> torch.Tensor:
    """``(n, d)`` float64 data near a rank-``rank`` subspace, shifted away from the origin."""
    generator = torch.Generator().manual_seed(seed)
    codes = torch.randn(n, rank, generator=generator, dtype=torch.float64) * torch.arange(rank, 0, -1) * 2  # (n, rank)
    basis = torch.randn(rank, d, generator=generator, dtype=torch.float64)  # (rank, d)
    noise = 0.05 * torch.randn(n, d, generator=generator, dtype=torch.float64)  # (n, d)
    return codes @ basis + noise + 3.0  # (n, d)


def pca_reference(x: torch.Tensor, k: int) -> np.ndarray:
    """The rank-k PCA reconstruction by another route than the SVD: the top-k eigenvectors of the
    covariance matrix (float64 NumPy). tests/test_vae.py checks that it equals scikit-learn's
    ``PCA(k).inverse_transform(PCA(k).transform(x))``; importing scikit-learn here would cost the
    grader a second."""
    data = x.double().numpy()  # (n, d)
    mean = data.mean(axis=0)  # (d,)
    _, vectors = np.linalg.eigh(np.cov(data - mean, rowvar=False))  # eigenvalues ascending, (d, d)
    top = vectors[:, ::-1][:, :k]  # (d, k)
    return mean + (data - mean) @ top @ top.T  # (n, d)


def expect_pca(call, x: torch.Tensor, k: int) -> None:
    """The student's ``pca_reconstruct(x, k)`` call equals scikit-learn's, x unchanged; else name the bug."""
    from vizgen.author.expect import expect_close, expect_input_unchanged, expect_shape, expect_tensor  # the
    from vizgen.author.messages import CheckFailure  # engine imports this module's probes: import it lazily

    recon = expect_tensor(call.value, f"pca_reconstruct(X, {k})")
    expect_shape(recon, tuple(x.shape), f"pca_reconstruct(X, {k})", hint="return one reconstructed row per row of X")
    top = torch.linalg.svd(x, full_matrices=False).Vh[:k]  # (k, d) directions of the uncentred data
    uncentred = x @ top.T @ top  # (n, d)
    if torch.allclose(recon.double(), uncentred, atol=1e-6):
        raise CheckFailure(f"pca_reconstruct(X, {k}) matches PCA without centring: subtract the mean row before the "
                             "SVD and add it back after projecting.")
    expect_close(recon, pca_reference(x, k), f"pca_reconstruct(X, {k})", atol=1e-6, rtol=1e-6,
                 hint="project X - mean on the first k rows of Vh (torch.linalg.svd) and add the mean back")
    expect_input_unchanged(call, "X")


PROBES: dict[str, Callable] = {
    "vae_summary": vae_summary,
    "reparametrize_gradients": reparametrize_gradients,
    "iw_estimates": iw_estimates,
    "train_on_vae_loss": train_on_vae_loss,
}

SUPPORT = Support(probes=PROBES)
