"""The VAE checks name the likely bug: each scenario breaks one function the way students do."""

import pytest

from helpers import replace_solution
from vizgen.course.config import GradingConfig
from vizgen.course.assignment import load_assignment
from vizgen.engine.submission import grade_submission

LOSS = "def vae_loss(logits, x, mu, logvar):\n"
KL = "    kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(dim=1)\n"
BCE = "    bce = F.binary_cross_entropy_with_logits(logits, x, reduction='none').sum(dim=1)\n"

SCENARIOS = {
    "mean-over-pixels": ("vae_loss", LOSS + KL + (
        "    return F.binary_cross_entropy_with_logits(logits, x) + kl.mean()\n"), "a mean over pixels"),
    "kl-sign": ("vae_loss", LOSS + KL + BCE + "    return (bce - kl).mean()\n", "the KL term has the wrong sign"),
    "kl-without-half": ("vae_loss", LOSS + KL + BCE + "    return (bce + 2 * kl).mean()\n", "lacks its factor 1/2"),
    "probabilities-as-logits": ("vae_loss", LOSS + KL + (
        "    probs = torch.sigmoid(logits)\n"
        "    return (F.binary_cross_entropy_with_logits(probs, x, reduction='none').sum(dim=1) + kl).mean()\n"),
        "probabilities passed as logits"),
    "std-is-exp-logvar": ("reparametrize", (
        "def reparametrize(mu, logvar):\n"
        "    return mu + torch.exp(logvar) * torch.randn_like(mu)\n"), "sigma = exp(logvar / 2)"),
    "iw-mean-of-log-weights": ("importance_weighted_nll", (
        "def importance_weighted_nll(model, x, k):\n"
        "    with torch.no_grad():\n"
        "        mu, logvar = model.encode(x)\n"
        "        eps = torch.randn(k, *mu.shape)\n"
        "        z = mu + torch.exp(logvar / 2) * eps\n"
        "        log_px_z = -F.binary_cross_entropy_with_logits(model.decode(z), x.expand(k, *x.shape), reduction='none').sum(-1)\n"
        "        log_w = log_px_z - 0.5 * z.pow(2).sum(-1) + 0.5 * (eps.pow(2) + logvar).sum(-1)\n"
        "        return -log_w.mean()\n"), "combine the k log-weights"),
    "decoder-sigmoid": ("VAE", None, "returns probabilities"),
}


@pytest.fixture(scope="module")
def vae_assignment(paths):
    return load_assignment(paths, "variational_autoencoders")


def test_vae_solution_gets_full_marks(vae_assignment):
    report = grade_submission(vae_assignment.solution_notebook, vae_assignment, hidden=True)
    assert report.score == report.max_score == 16, [(c.name, c.message) for c in report.checks if not c.passed]


def _sigmoid_decoder(task) -> str:
    import nbformat

    cell = next(c for c in nbformat.read(task.solution_notebook, as_version=4).cells
                if c.metadata.get("nbgrader", {}).get("grade_id") == "VAE")
    return cell.source.replace("nn.Linear(hidden_size, input_size),  # (..., input_size) logits",
                               "nn.Linear(hidden_size, input_size), nn.Sigmoid(),")


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_vae_mistakes_are_named(vae_assignment, tmp_path, scenario):
    function, source, words = SCENARIOS[scenario]
    source = source if source is not None else _sigmoid_decoder(vae_assignment)
    notebook = replace_solution(vae_assignment.solution_notebook, tmp_path / f"submitted-{scenario}.ipynb", function,
                                source)
    report = grade_submission(notebook, vae_assignment, hidden=True, config=GradingConfig(call_timeout_s=20))
    failed = [c for c in report.checks if not c.passed]
    assert failed and {c.function for c in failed} == {function}
    assert any(words in c.message for c in failed), [c.message for c in failed]
