"""What runs beside the student's code in the VAE assignment: two recording probes, a tiny model and inputs.

This module is imported in the process of each graded function, before the student's code, and it
ships to students with the public checks: it computes no correct answer, no mistake and no verdict.
Its probes call the student's function once on inputs the grader chose and return raw material:

- ``vae_summary`` builds the student's ``VAE`` and runs one of its methods (``encode``, ``decode`` or
  ``forward``) on the grader's input: the layers, the parameter count and the method's raw output.
  One method per call, so no student code runs after what it returned was recorded.
- ``iw_estimate`` calls the student's ``importance_weighted_nll`` once on a ``TinyVAE`` built from the
  grader's tensors: the estimate and the model's state after the call. The grader runs the loop over
  k and repeats itself (``judge.iw_estimates``), one call at a time.

Its one small model, ``IWVAE`` (``ModelSpec("iw_vae", seed=...)``), is a seeded VAE whose decoder
depends on z and whose q(z|x) is neither the prior nor the posterior: on it the importance-weighted
bound, the negative ELBO and the usual mistakes all take different values (``iw_images`` are its inputs).

Everything that judges these records (shapes, signs, the exact -log p(x), the negative ELBO, the
training loop on the student's loss, PCA) is in ``judge.py`` or in the stored public references.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from vizgen.author.probes import describe_layer
from vizgen.author.support import Support

VAE_LOSS_FORMULA = ("the Bernoulli decoder's cross-entropy on the logits, summed over the pixels, plus KL(N(mu, "
                    "exp(logvar)) || N(0, I)) summed over the latent dimensions, averaged over the batch (Kingma and "
                    "Welling 2014, eq. 10 and Appendix B)")
PCA_FORMULA = ("the mean row plus the projection of X - mean onto the span of its first k principal directions (the "
               "right singular vectors of X - mean with the largest singular values)")
IW_FORMULA = ("-(logsumexp of log w_i over the k samples (dim 0) - log k) per image, averaged over the images, with "
              "log w_i = log p(x|z_i) + log N(z_i; 0, I) - log N(z_i; mu, exp(logvar)) and z_i ~ q(z|x) (Burda et al. "
              "2016, eq. 8)")
GAUSSIAN_KL_FORMULA = ("KL(N(mu_q, exp(logvar_q)) || N(mu_p, exp(logvar_p))) of diagonal Gaussians, summed over the "
                       "latent dimensions (the last axis), one value per row")
VAE_METHODS = ("encode", "decode", "forward")


def _raw(output) -> object:
    """What a method returned, as plain data: tensors detached, tuples kept, anything else by its type's name."""
    if isinstance(output, torch.Tensor):
        return output.detach().clone()
    if isinstance(output, (tuple, list)):
        return tuple(_raw(o) for o in output)
    return {"type": type(output).__name__}


def vae_summary(build: Callable, *args, method: str = "", inputs: torch.Tensor | None = None, **kwargs) -> dict:
    """Build ``build(*args, **kwargs)`` (the student's VAE) and record its leaf layers and parameter count,
    then, when ``method`` names one, call it once on ``inputs`` (under no_grad) and record its raw output
    (or the error it raised). Nothing is judged here."""
    if method and method not in VAE_METHODS:
        raise ValueError(f"method must be one of {VAE_METHODS}, not {method!r}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = build(*args, **kwargs)
        if not isinstance(model, nn.Module):
            return {"is_module": False, "type": type(model).__name__}
        layers = tuple(describe_layer(m) for m in model.modules() if not list(m.children()))
        parameters = sum(p.numel() for p in model.parameters())
        output, error = None, ""
        if method:
            try:
                with torch.no_grad():
                    output = _raw(getattr(model, method)(inputs))
            except Exception as raised:  # noqa: BLE001 - a wrong architecture fails here; record why
                error = f"{type(raised).__name__}: {raised}"[:300]
    return {"is_module": True, "type": type(model).__name__, "layers": layers, "parameters": parameters,
            "method": method, "output": output, "error": error}


class TinyVAE(nn.Module):
    """A VAE on a few pixels whose parts are known: q(z|x) = N(mu_q, exp(logvar_q)) whatever x is, and a
    linear Bernoulli decoder ``logits = z @ weight.T + bias``. With ``weight = 0`` the decoder ignores z,
    so log p(x) has a closed form (the grader's), and with ``mu_q = 0, logvar_q = 0`` q is the true
    posterior. The probes use ``encode`` and ``decode`` only; ``forward`` decodes the mean code (it
    draws no z)."""

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
        mu, logvar = self.encode(x)  # (N, D) each
        return self.decoder(mu), mu, logvar  # the logits at the mean code, (N, P)


def iw_estimate(iw_nll: Callable, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, mu_q: torch.Tensor,
                logvar_q: torch.Tensor, k: int = 1, seed: int = 0) -> dict:
    """One call ``iw_nll(model, x, k)`` on a fresh ``TinyVAE`` (eval mode, parameters that require grad),
    with the global generator seeded with ``seed``: the value it returned (detached; whether it required
    grad; its type and shape when it is no tensor) and the model's state and mode after the call."""
    model = TinyVAE(weight, bias, mu_q, logvar_q).eval()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        value = iw_nll(model, x, k)
    record = {"type": type(value).__name__, "value": None, "requires_grad": False, "shape": None}
    if isinstance(value, torch.Tensor):
        record.update(value=value.detach().clone(), requires_grad=value.requires_grad, shape=tuple(value.shape))
    record["state_after"] = {name: t.detach().clone() for name, t in model.state_dict().items()}
    record["training_after"] = model.training
    return record


IW_PIXELS = 6
IW_IMAGES = torch.tensor([[1.0, 0.0, 1.0, 1.0, 0.0, 0.0], [0.0, 1.0, 1.0, 0.0, 1.0, 0.0],
                          [1.0, 1.0, 0.0, 0.0, 0.0, 1.0], [0.0, 0.0, 0.0, 1.0, 1.0, 1.0]])  # (4, 6) binary


class IWVAE(nn.Module):
    """A seeded VAE on 6 pixels with 2 latent dimensions: a linear encoder whose mu and logvar depend on x
    (log-variances near -2: q(z|x) much narrower than the prior) and a linear Bernoulli decoder whose logits
    move by several units across q's spread, so an image's k importance weights differ and the bound
    -L_k lies well below the negative ELBO. ``num_classes`` is ModelSpec's constructor argument, unused."""

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.encoder = nn.Linear(IW_PIXELS, 4)  # (N, 4): mu and logvar, 2 each
        self.decoder = nn.Linear(2, IW_PIXELS)  # (..., 6) logits
        with torch.no_grad():
            self.decoder.weight.mul_(4.0)
            self.encoder.bias[2:].sub_(2.0)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.encoder(x).chunk(2, dim=-1)  # (N, 2) each
        return mu, logvar

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)  # (..., 6) logits

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = self.encode(x)  # (N, 2) each
        return self.decoder(mu), mu, logvar  # the logits at the mean code (it draws no z)


def iw_images(copies: int) -> torch.Tensor:
    """``(4 * copies, 6)``: the four ``IW_IMAGES`` repeated, so one call's mean over images has a small
    Monte Carlo error."""
    return IW_IMAGES.repeat(copies, 1)


def low_rank_data(n: int, d: int, rank: int, seed: int) -> torch.Tensor:
    """``(n, d)`` float64 data near a rank-``rank`` subspace, shifted away from the origin (PCA inputs)."""
    generator = torch.Generator().manual_seed(seed)
    codes = torch.randn(n, rank, generator=generator, dtype=torch.float64) * torch.arange(rank, 0, -1) * 2  # (n, rank)
    basis = torch.randn(rank, d, generator=generator, dtype=torch.float64)  # (rank, d)
    noise = 0.05 * torch.randn(n, d, generator=generator, dtype=torch.float64)  # (n, d)
    return codes @ basis + noise + 3.0  # (n, d)


def binary_images(n: int, pixels: int, seed: int, p: float = 0.3) -> torch.Tensor:
    """``(n, pixels)`` float32 binary images, each pixel on with probability ``p``, from a private generator."""
    return torch.bernoulli(torch.full((n, pixels), p), generator=torch.Generator().manual_seed(seed))


PROBES: dict[str, Callable] = {
    "vae_summary": vae_summary,
    "iw_estimate": iw_estimate,
}

SUPPORT = Support(probes=PROBES, models={"iw_vae": IWVAE})
