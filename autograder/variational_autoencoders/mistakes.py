"""The VAE assignment's table: honest mistakes, correct alternatives and forged probes.

Never shipped (a mutant is one edit from the solution). ``tests/assignments/test_mistakes.py`` grades
each mistake (it must lose its function's points, with a failed check's message containing ``words``)
and each alternative (full marks); ``tests/hostile/test_forged_probes.py`` grades each forgery beside
its baseline. The first entries of ``MISTAKES`` for ``vae_loss``, ``reparametrize``,
``importance_weighted_nll`` and ``VAE`` come from the former tests/assignments/test_vae_checks.py.
"""

from vizgen.author import Alternative, Forgery, Mistake

# The notebook's first cell imports math, torch, F and nn for every cell; a replacement cell that imported
# them again would rebind them after the cells above it (grading resolves a name to its last binding), so
# these cells import only what the notebook lacks (sys, for the forgeries).
IMPORTS = ""

# pca_reconstruct

PCA = IMPORTS + "def pca_reconstruct(X, k):\n"

# Autoencoder


def _autoencoder(encoder: str, decoder: str, forward: str = "self.decoder(self.encoder(x))") -> str:
    return IMPORTS + (
        "class Autoencoder(nn.Module):\n"
        "    def __init__(self, input_size=784, hidden_size=400, code_size=20):\n"
        "        super().__init__()\n"
        f"        self.encoder = nn.Sequential({encoder})\n"
        f"        self.decoder = nn.Sequential({decoder})\n\n"
        "    def forward(self, x):\n"
        f"        return {forward}\n")


AE_ENCODER = "nn.Linear(input_size, hidden_size), nn.ReLU(), nn.Linear(hidden_size, code_size)"
AE_DECODER = "nn.Linear(code_size, hidden_size), nn.ReLU(), nn.Linear(hidden_size, input_size)"

# reparametrize

REPARAM = IMPORTS + "def reparametrize(mu, logvar):\n"

# vae_loss

LOSS = IMPORTS + "def vae_loss(logits, x, mu, logvar):\n"
KL = "    kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(dim=1)\n"
BCE = "    bce = F.binary_cross_entropy_with_logits(logits, x, reduction='none').sum(dim=1)\n"

# VAE


def _vae(init: str, encode: str = "h = self.encoder(x)\n        return self.mu_layer(h), self.logvar_layer(h)",
         decode: str = "return self.decoder(z)",
         forward: str = ("mu, logvar = self.encode(x)\n"
                         "        return self.decode(reparametrize(mu, logvar)), mu, logvar"),
         head: str = "", signature: str = "input_size=784, hidden_size=400, latent_size=20") -> str:
    return IMPORTS + head + (
        "class VAE(nn.Module):\n"
        f"    def __init__(self, {signature}):\n"
        "        super().__init__()\n"
        f"{init}\n"
        "    def encode(self, x):\n"
        f"        {encode}\n\n"
        "    def decode(self, z):\n"
        f"        {decode}\n\n"
        "    def forward(self, x):\n"
        f"        {forward}\n")


VAE_INIT = (
    "        self.encoder = nn.Sequential(nn.Linear(input_size, hidden_size), nn.ReLU())\n"
    "        self.mu_layer = nn.Linear(hidden_size, latent_size)\n"
    "        self.logvar_layer = nn.Linear(hidden_size, latent_size)\n"
    "        self.decoder = nn.Sequential(nn.Linear(latent_size, hidden_size), nn.ReLU(),\n"
    "                                     nn.Linear(hidden_size, input_size))\n")
VAE_SIGMOID_INIT = VAE_INIT.replace("nn.Linear(hidden_size, input_size))",
                                    "nn.Linear(hidden_size, input_size), nn.Sigmoid())")

# importance_weighted_nll


def _iw(log_w: str = "log_px_z - 0.5 * z.pow(2).sum(-1) + 0.5 * (eps.pow(2) + logvar).sum(-1)",
        sigma: str = "torch.exp(logvar / 2)", result: str = "-(torch.logsumexp(log_w, dim=0) - math.log(k)).mean()",
        head: str = "", tamper: str = "") -> str:
    return IMPORTS + head + (
        "def importance_weighted_nll(model, x, k):\n"
        f"{tamper}"
        "    with torch.no_grad():\n"
        "        mu, logvar = model.encode(x)\n"
        "        eps = torch.randn(k, *mu.shape)\n"
        f"        z = mu + {sigma} * eps\n"
        "        logits = model.decode(z)\n"
        "        log_px_z = -F.binary_cross_entropy_with_logits(logits, x.expand_as(logits), reduction='none')"
        ".sum(-1)\n"
        f"        log_w = {log_w}\n"
        f"        return {result}\n")


# gaussian_kl: the per-dimension divergence in braces

KL_CELL = IMPORTS + (
    "def gaussian_kl(mu_q, logvar_q, mu_p, logvar_p):\n"
    "    var_q, var_p = logvar_q.exp(), logvar_p.exp()\n"
    "    per_dim = {}\n"
    "    return per_dim.sum(dim=-1)\n")
KL_RIGHT = "0.5 * (logvar_p - logvar_q + (var_q + (mu_q - mu_p).pow(2)) / var_p - 1)"

MISTAKES = [
    # pca_reconstruct
    Mistake("pca-without-centring", "pca_reconstruct", PCA + (
        "    _, _, Vh = torch.linalg.svd(X, full_matrices=False)\n"
        "    V = Vh[:k].T\n"
        "    return X @ V @ V.T\n"), "PCA without centring"),
    Mistake("pca-mean-not-added-back", "pca_reconstruct", PCA + (
        "    centred = X - X.mean(dim=0)\n"
        "    _, _, Vh = torch.linalg.svd(centred, full_matrices=False)\n"
        "    V = Vh[:k].T\n"
        "    return centred @ V @ V.T\n"), "the mean row was not added back"),
    Mistake("pca-columns-of-vh", "pca_reconstruct", PCA + (
        "    mean = X.mean(dim=0)\n"
        "    _, _, Vh = torch.linalg.svd(X - mean, full_matrices=False)\n"
        "    V = Vh[:, :k]\n"
        "    return mean + (X - mean) @ V @ V.T\n"), "the first k columns of Vh"),
    Mistake("pca-projects-x-itself", "pca_reconstruct", PCA + (
        "    _, _, Vh = torch.linalg.svd(X - X.mean(dim=0), full_matrices=False)\n"
        "    V = Vh[:k].T\n"
        "    return X @ V @ V.T\n"), "X itself was projected"),
    Mistake("pca-centres-in-place", "pca_reconstruct", PCA + (
        "    mean = X.mean(dim=0)\n"
        "    X -= mean\n"
        "    _, _, Vh = torch.linalg.svd(X, full_matrices=False)\n"
        "    V = Vh[:k].T\n"
        "    return mean + X @ V @ V.T\n"), "modified its input X in place"),
    Mistake("pca-one-direction-too-many", "pca_reconstruct", PCA + (
        "    mean = X.mean(dim=0)\n"
        "    _, _, Vh = torch.linalg.svd(X - mean, full_matrices=False)\n"
        "    V = Vh[:k + 1].T\n"
        "    return mean + (X - mean) @ V @ V.T\n"), "differs from the expected", named=False),
    # Autoencoder
    Mistake("ae-sigmoid-output", "Autoencoder", _autoencoder(AE_ENCODER, AE_DECODER + ", nn.Sigmoid()"),
            "Sigmoid()"),
    Mistake("ae-code-and-hidden-swapped", "Autoencoder", _autoencoder(
        "nn.Linear(input_size, code_size), nn.ReLU(), nn.Linear(code_size, hidden_size)",
        "nn.Linear(hidden_size, code_size), nn.ReLU(), nn.Linear(code_size, input_size)"), "expected 644,804"),
    Mistake("ae-forward-returns-the-code", "Autoencoder", _autoencoder(AE_ENCODER, AE_DECODER, "self.encoder(x)"),
            "outputs shape (5, 20)"),
    Mistake("ae-code-size-ignored", "Autoencoder", _autoencoder(
        "nn.Linear(input_size, hidden_size), nn.ReLU(), nn.Linear(hidden_size, 20)",
        "nn.Linear(20, hidden_size), nn.ReLU(), nn.Linear(hidden_size, input_size)"),
        "expected Linear(in_features=16, out_features=4)"),
    Mistake("ae-linear-encoder", "Autoencoder", _autoencoder(
        "nn.Linear(input_size, hidden_size), nn.Linear(hidden_size, code_size)", AE_DECODER), "expected ReLU()"),
    Mistake("ae-tanh-activations", "Autoencoder", _autoencoder(AE_ENCODER.replace("ReLU", "Tanh"),
                                                               AE_DECODER.replace("ReLU", "Tanh")),
            "expected ReLU()", named=False),
    # reparametrize
    Mistake("reparam-std-is-exp-logvar", "reparametrize", REPARAM + (
        "    return mu + torch.exp(logvar) * torch.randn_like(mu)\n"), "sigma = exp(logvar / 2)"),
    Mistake("reparam-seeded-noise", "reparametrize", REPARAM + (
        "    torch.manual_seed(0)\n"
        "    return mu + torch.exp(logvar / 2) * torch.randn_like(mu)\n"), "two calls returned the same z"),
    Mistake("reparam-no-noise", "reparametrize", REPARAM + (
        "    return mu + torch.exp(logvar / 2)\n"), "draw fresh noise"),
    Mistake("reparam-half-logvar-as-std", "reparametrize", REPARAM + (
        "    return mu + logvar / 2 * torch.randn_like(mu)\n"), "d z / d logvar"),
    Mistake("reparam-uniform-noise", "reparametrize", REPARAM + (
        "    return mu + torch.exp(logvar / 2) * torch.rand_like(mu)\n"), "not torch.rand_like"),
    Mistake("reparam-uniform-of-unit-variance", "reparametrize", REPARAM + (
        "    eps = (torch.rand_like(mu) - 0.5) * math.sqrt(12)  # mean 0, variance 1\n"
        "    return mu + torch.exp(logvar / 2) * eps\n"), "does not follow N(0, 1)"),
    Mistake("reparam-random-signs", "reparametrize", REPARAM + (
        "    eps = torch.randint_like(mu, 0, 2) * 2 - 1  # +-1: mean 0, variance 1\n"
        "    return mu + torch.exp(logvar / 2) * eps\n"), "does not follow N(0, 1)"),
    Mistake("reparam-one-draw-per-row", "reparametrize", REPARAM + (
        "    eps = torch.randn(mu.shape[0], 1)  # shared by the row's latent dimensions\n"
        "    return mu + torch.exp(logvar / 2) * eps\n"), "one independent draw per entry"),
    Mistake("reparam-noise-scaled", "reparametrize", REPARAM + (
        "    return mu + torch.exp(logvar / 2) * 0.9 * torch.randn_like(mu)\n"), "does not follow N(0, 1)",
        named=False),
    Mistake("reparam-library-rsample", "reparametrize", REPARAM + (
        "    return torch.distributions.Normal(mu, torch.exp(0.5 * logvar)).rsample()\n"), "earns nothing"),
    # vae_loss
    Mistake("loss-mean-over-pixels", "vae_loss", LOSS + KL + (
        "    return F.binary_cross_entropy_with_logits(logits, x) + kl.mean()\n"), "a mean over pixels"),
    Mistake("loss-kl-sign", "vae_loss", LOSS + KL + BCE + "    return (bce - kl).mean()\n",
            "the KL term has the wrong sign"),
    Mistake("loss-kl-without-half", "vae_loss", LOSS + KL + BCE + "    return (bce + 2 * kl).mean()\n",
            "lacks its factor 1/2"),
    Mistake("loss-probabilities-as-logits", "vae_loss", LOSS + KL + (
        "    probs = torch.sigmoid(logits)\n"
        "    return (F.binary_cross_entropy_with_logits(probs, x, reduction='none').sum(dim=1) + kl).mean()\n"),
        "probabilities passed as logits"),
    Mistake("loss-kl-missing", "vae_loss", LOSS + BCE + "    return bce.mean()\n", "the KL term is missing"),
    Mistake("loss-sum-over-batch", "vae_loss", LOSS + KL + BCE + "    return (bce + kl).sum()\n",
            "a sum over the batch"),
    Mistake("loss-log-of-sigmoid", "vae_loss", LOSS + KL + (
        "    p = torch.sigmoid(logits)\n"
        "    bce = -(x * torch.log(p) + (1 - x) * torch.log(1 - p)).sum(dim=1)\n"
        "    return (bce + kl).mean()\n"), "never log(sigmoid(x))"),
    Mistake("loss-kl-with-exp-logvar-as-std", "vae_loss", LOSS + BCE + (
        "    sigma = logvar.exp()\n"
        "    kl = 0.5 * (mu.pow(2) + sigma.pow(2) - 1 - torch.log(sigma.pow(2))).sum(dim=1)\n"
        "    return (bce + kl).mean()\n"), "exp(logvar) was used as the standard deviation"),
    Mistake("loss-scaled", "vae_loss", LOSS + KL + BCE + "    return 1.37 * (bce + kl).mean()\n", "compute ",
            named=False),
    # VAE
    Mistake("vae-decoder-sigmoid", "VAE", _vae(VAE_SIGMOID_INIT), "returns probabilities"),
    Mistake("vae-forward-returns-logits-only", "VAE", _vae(VAE_INIT, forward=(
        "mu, logvar = self.encode(x)\n        return self.decode(reparametrize(mu, logvar))")),
        "expected (logits, mu, logvar)"),
    Mistake("vae-mu-from-the-pixels", "VAE", _vae(VAE_INIT.replace(
        "self.mu_layer = nn.Linear(hidden_size, latent_size)", "self.mu_layer = nn.Linear(input_size, latent_size)"),
        encode="return self.mu_layer(x), self.logvar_layer(self.encoder(x))"), "expected 652,824"),
    Mistake("vae-hidden-size-ignored", "VAE", _vae(VAE_INIT.replace("hidden_size", "400")),
            "use input_size, hidden_size and latent_size", public=False),
    Mistake("vae-one-layer-for-mu-and-logvar", "VAE", _vae(
        "        self.encoder = nn.Sequential(nn.Linear(input_size, hidden_size), nn.ReLU())\n"
        "        self.stats = nn.Linear(hidden_size, 2 * latent_size)\n"
        "        self.decoder = nn.Sequential(nn.Linear(latent_size, hidden_size), nn.ReLU(),\n"
        "                                     nn.Linear(hidden_size, input_size))\n",
        encode="return self.stats(self.encoder(x)).chunk(2, dim=1)"), "one hidden layer each side", public=False),
    Mistake("vae-tanh-in-the-decoder", "VAE", _vae(VAE_INIT.replace("nn.Linear(latent_size, hidden_size), nn.ReLU()",
                                                                    "nn.Linear(latent_size, hidden_size), nn.Tanh()")),
            "use input_size, hidden_size and latent_size", public=False, named=False),
    # importance_weighted_nll
    Mistake("iw-mean-of-log-weights", "importance_weighted_nll", _iw(result="-log_w.mean()"),
            "the log-weights were averaged"),
    Mistake("iw-without-log-k", "importance_weighted_nll", _iw(result="-torch.logsumexp(log_w, dim=0).mean()"),
            "log k is missing"),
    Mistake("iw-sum-over-images", "importance_weighted_nll", _iw(
        result="-(torch.logsumexp(log_w, dim=0) - math.log(k)).sum()"), "averaged over the images"),
    Mistake("iw-sign-flipped", "importance_weighted_nll", _iw(
        result="(torch.logsumexp(log_w, dim=0) - math.log(k)).mean()"), "the sign is flipped"),
    Mistake("iw-logsumexp-over-the-images", "importance_weighted_nll", _iw(
        result="-(torch.logsumexp(log_w, dim=1) - math.log(k)).mean()"), "over the k samples (dim 0)"),
    Mistake("iw-adds-log-q", "importance_weighted_nll", _iw(
        log_w="log_px_z - 0.5 * z.pow(2).sum(-1) - 0.5 * (eps.pow(2) + logvar).sum(-1)"),
        "log q(z|x) was added to log w"),
    Mistake("iw-std-is-exp-logvar", "importance_weighted_nll", _iw(sigma="torch.exp(logvar)"),
            "exp(logvar) was used as the standard deviation of q"),
    Mistake("iw-log-q-without-logvar", "importance_weighted_nll", _iw(
        log_w="log_px_z - 0.5 * z.pow(2).sum(-1) + 0.5 * eps.pow(2).sum(-1)"), "lacks its -logvar / 2 term"),
    Mistake("iw-median-over-images", "importance_weighted_nll", _iw(
        result="-(torch.logsumexp(log_w, dim=0) - math.log(k)).median()"), "compute ", named=False),
    # gaussian_kl
    Mistake("kl-directions-swapped", "gaussian_kl", KL_CELL.format(
        "0.5 * (logvar_q - logvar_p + (var_p + (mu_p - mu_q).pow(2)) / var_q - 1)"), "the two Gaussians are swapped"),
    Mistake("kl-without-half", "gaussian_kl", KL_CELL.format(
        "logvar_p - logvar_q + (var_q + (mu_q - mu_p).pow(2)) / var_p - 1"), "the factor 1/2 is missing"),
    Mistake("kl-mean-over-dimensions", "gaussian_kl", KL_CELL.format(KL_RIGHT).replace(".sum(", ".mean("),
            "a mean over the latent dimensions"),
    Mistake("kl-exp-logvar-as-std", "gaussian_kl", KL_CELL.replace("logvar_q.exp(), logvar_p.exp()",
                                                                   "logvar_q.exp() ** 2, logvar_p.exp() ** 2").format(
        "0.5 * (2 * logvar_p - 2 * logvar_q + (var_q + (mu_q - mu_p).pow(2)) / var_p - 1)"),
        "exp(logvar) was used as the standard deviation"),
    Mistake("kl-means-not-scaled", "gaussian_kl", KL_CELL.format(
        "0.5 * (logvar_p - logvar_q + var_q / var_p + (mu_q - mu_p).pow(2) - 1)"),
        "was not divided by p's variance"),
    Mistake("kl-divided-by-q-variance", "gaussian_kl", KL_CELL.format(
        "0.5 * (logvar_p - logvar_q + (var_q + (mu_q - mu_p).pow(2)) / var_q - 1)"), "differs from the expected",
        named=False),
]

# Mistakes whose failed checks show the student's picture (the reconstructions).
SHOWN = ("pca-without-centring",)

ALTERNATIVES = [
    Alternative("pca-by-covariance-eigenvectors", "pca_reconstruct", PCA + (
        "    mean = X.mean(dim=0, keepdim=True)\n"
        "    centred = X - mean\n"
        "    _, vectors = torch.linalg.eigh(centred.T @ centred)\n"
        "    V = vectors[:, -k:]\n"
        "    return mean + centred @ V @ V.T\n")),
    Alternative("ae-layers-from-a-list", "Autoencoder", IMPORTS + (
        "class Autoencoder(nn.Module):\n"
        "    def __init__(self, input_size=784, hidden_size=400, code_size=20):\n"
        "        super().__init__()\n"
        "        sizes = [input_size, hidden_size, code_size, hidden_size, input_size]\n"
        "        linears = [nn.Linear(a, b) for a, b in zip(sizes, sizes[1:])]\n"
        "        self.encoder = nn.Sequential(linears[0], nn.ReLU(), linears[1])\n"
        "        self.decoder = nn.Sequential(linears[2], nn.ReLU(), linears[3])\n\n"
        "    def forward(self, x):\n"
        "        code = self.encoder(x)\n"
        "        return self.decoder(code)\n")),
    Alternative("reparam-noise-scaled-first", "reparametrize", REPARAM + (
        "    std = torch.exp(0.5 * logvar)\n"
        "    return torch.randn_like(std) * std + mu\n")),
    Alternative("kl-as-expectation-terms", "gaussian_kl", IMPORTS + (
        "def gaussian_kl(mu_q, logvar_q, mu_p, logvar_p):\n"
        "    cross_entropy = 0.5 * (math.log(2 * math.pi) + logvar_p + (logvar_q.exp() + (mu_q - mu_p) ** 2)\n"
        "                           / logvar_p.exp())\n"
        "    entropy = 0.5 * (math.log(2 * math.pi) + logvar_q + 1)\n"
        "    return (cross_entropy - entropy).sum(-1)\n")),
    Alternative("loss-pytorch-example-form", "vae_loss", LOSS + (
        "    bce = F.binary_cross_entropy_with_logits(logits, x, reduction='sum')\n"
        "    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())\n"
        "    return (bce + kld) / x.shape[0]\n")),
    Alternative("vae-own-names-inline-sampling", "VAE", _vae(
        "        self.fc1 = nn.Linear(input_size, hidden_size)\n"
        "        self.fc_mu = nn.Linear(hidden_size, latent_size)\n"
        "        self.fc_logvar = nn.Linear(hidden_size, latent_size)\n"
        "        self.fc3 = nn.Linear(latent_size, hidden_size)\n"
        "        self.fc4 = nn.Linear(hidden_size, input_size)\n"
        "        self.relu = nn.ReLU()\n"
        "        self.relu2 = nn.ReLU()\n",
        encode="h = self.relu(self.fc1(x))\n        return self.fc_mu(h), self.fc_logvar(h)",
        decode="return self.fc4(self.relu2(self.fc3(z)))",
        forward=("mu, logvar = self.encode(x)\n"
                 "        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)\n"
                 "        return self.decode(z), mu, logvar"))),
    Alternative("iw-torch-distributions", "importance_weighted_nll", IMPORTS + (
        "def importance_weighted_nll(model, x, k):\n"
        "    with torch.no_grad():\n"
        "        mu, logvar = model.encode(x)\n"
        "        q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))\n"
        "        z = q.sample((k,))\n"
        "        prior = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))\n"
        "        likelihood = torch.distributions.Bernoulli(logits=model.decode(z))\n"
        "        log_w = (likelihood.log_prob(x.expand(k, *x.shape)).sum(-1) + prior.log_prob(z).sum(-1)\n"
        "                 - q.log_prob(z).sum(-1))\n"
        "        return -(torch.logsumexp(log_w, dim=0) - math.log(k)).mean()\n")),
]

# Forgeries: each reaches the probe that graded its function before this assignment's grader was split by
# process, and forges what that probe reported; the baseline is the same submission without the tampering.

_SIGMOID_VAE_FORWARD = "mu, logvar = self.encode(x)\n        return self.decode(reparametrize(mu, logvar)), mu, logvar"
_FORGED_FORWARD = (
    "mu, logvar = self.encode(x)\n"
    "        frame = sys._getframe()\n"
    "        while frame is not None:  # vae_summary's record of the decoder's smallest output\n"
    "            summary = frame.f_locals.get('summary')\n"
    "            if isinstance(summary, dict) and 'decode_min' in summary:\n"
    "                summary['decode_min'] = -1.0\n"
    "            frame = frame.f_back\n"
    "        return self.decode(reparametrize(mu, logvar)), mu, logvar")

_REPARAM_PROXY = (
    "import sys\n\n"
    "class _Grads:\n"
    "    # stands in for the probe module's torch: autograd.grad returns the gradients the check expects\n"
    "    def __init__(self, real, z, mu):\n"
    "        self._real, self._z, self._mu = real, z, mu\n"
    "        self.autograd = self\n\n"
    "    def grad(self, outputs, inputs, **kwargs):\n"
    "        return torch.ones_like(self._mu), (self._z - self._mu) / 2\n\n"
    "    def __getattr__(self, name):\n"
    "        return getattr(self._real, name)\n\n")
_REPARAM_WRONG = "    z = mu + torch.exp(logvar) * torch.randn_like(mu)\n"

_IW_TAMPER = (
    "    frame = sys._getframe(1)\n"
    "    while frame is not None and not isinstance(frame.f_locals.get('out'), torch.Tensor):\n"
    "        frame = frame.f_back\n"
    "    if frame is not None:  # iw_estimates' table of estimates: make the means fall with k\n"
    "        found = frame.f_locals\n"
    "        out, i, r = found['out'], found.get('i', 0), found.get('r', 0)\n"
    "        if out.shape[0] >= 3 and i == out.shape[0] - 1 and r == 0:\n"
    "            out[:i] += torch.arange(i, 0, -1, dtype=out.dtype)[:, None]\n")

_LOSS_TAMPER = (
    "    frame = sys._getframe(1)\n"
    "    while frame is not None and not (isinstance(frame.f_locals.get('before'), dict)\n"
    "                                     and 'mu' in frame.f_locals['before']):\n"
    "        frame = frame.f_back\n"
    "    if frame is not None and not getattr(vae_loss, 'done', False):\n"
    "        frame.f_locals['before']['mu'].add_(10.0)  # the untrained model's codes: a huge KL before training\n"
    "        vae_loss.done = True\n")
_LOSS_MEAN_OVER_PIXELS = KL + "    return F.binary_cross_entropy_with_logits(logits, x) + kl.mean()\n"

FORGERIES = [
    Forgery("vae-summary-decode-min-set-from-forward", "vae_summary", "VAE",
            _vae(VAE_SIGMOID_INIT, forward=_FORGED_FORWARD, head="import sys\n\n"),
            _vae(VAE_SIGMOID_INIT, forward=_SIGMOID_VAE_FORWARD)),
    Forgery("iw-estimates-earlier-rows-rewritten", "iw_estimate", "importance_weighted_nll",
            _iw(result="-log_w.mean()", head="import sys\n\n", tamper=_IW_TAMPER), _iw(result="-log_w.mean()")),
    Forgery("reparametrize-gradients-through-the-probe-modules-torch", "reparametrize_gradients", "reparametrize",
            IMPORTS + _REPARAM_PROXY + "def reparametrize(mu, logvar):\n" + _REPARAM_WRONG + (
                "    frame = sys._getframe(1)\n"
                "    while frame is not None and frame.f_code.co_name != 'reparametrize_gradients':\n"
                "        frame = frame.f_back\n"
                "    if frame is not None:\n"
                "        frame.f_globals['torch'] = _Grads(torch, z.detach(), mu.detach())\n"
                "    return z\n"),
            REPARAM + _REPARAM_WRONG + "    return z\n"),
    Forgery("train-on-vae-loss-before-inflated", "train_on_vae_loss", "vae_loss",
            IMPORTS + "import sys\n\n" + "def vae_loss(logits, x, mu, logvar):\n" + _LOSS_TAMPER
            + _LOSS_MEAN_OVER_PIXELS,
            LOSS + _LOSS_MEAN_OVER_PIXELS),
]
