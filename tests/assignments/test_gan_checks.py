"""The GAN checks name the likely bug: each scenario breaks one function the way students do."""

import pytest

from helpers import replace_solution
from vizgen.course.config import GradingConfig
from vizgen.course.assignment import load_assignment
from vizgen.engine.submission import grade_submission

HEADER = {
    "discriminator_loss": "def discriminator_loss(logits_real, logits_fake):\n",
    "generator_loss": "def generator_loss(logits_fake):\n",
}

SCENARIOS = {
    "labels-swapped": ("discriminator_loss", HEADER["discriminator_loss"] + (
        "    real = F.binary_cross_entropy_with_logits(logits_real, torch.zeros_like(logits_real))\n"
        "    fake = F.binary_cross_entropy_with_logits(logits_fake, torch.ones_like(logits_fake))\n"
        "    return real + fake\n"), "likely bug: labels swapped"),
    "sigmoid-twice": ("generator_loss", HEADER["generator_loss"] + (
        "    probs = torch.sigmoid(logits_fake)\n"
        "    return F.binary_cross_entropy_with_logits(probs, torch.ones_like(probs))\n"), "likely bug: sigmoid applied twice"),
    "sum-not-mean": ("discriminator_loss", HEADER["discriminator_loss"] + (
        "    real = F.binary_cross_entropy_with_logits(logits_real, torch.ones_like(logits_real), reduction='sum')\n"
        "    fake = F.binary_cross_entropy_with_logits(logits_fake, torch.zeros_like(logits_fake), reduction='sum')\n"
        "    return real + fake\n"), "likely bug: sum instead of mean"),
    "unstable-log-sigmoid": ("generator_loss", HEADER["generator_loss"] + (
        "    return -torch.log(torch.sigmoid(logits_fake)).mean()\n"), "the loss is not finite"),
    "gaussian-noise": ("sample_noise", (
        "def sample_noise(batch_size, dim):\n"
        "    return torch.randn(batch_size, dim).clamp(-1, 1)\n"), "not torch.randn"),
    "missing-layer": ("discriminator", (
        "def discriminator():\n"
        "    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.LeakyReLU(0.01), nn.Linear(256, 1))\n"),
        "layer 4 is Linear(in_features=256, out_features=1); expected Linear(in_features=256, out_features=256)"),
    "wrong-optimizer": ("get_optimizer", (
        "def get_optimizer(model):\n"
        "    return torch.optim.SGD(model.parameters(), lr=1e-3)\n"), "get_optimizer made SGD; expected Adam"),
    "returns-list": ("build_dc_generator", (
        "def build_dc_generator(noise_dim=96):\n"
        "    return [nn.Linear(noise_dim, 1024)]\n"), "returned a list; expected an nn.Module"),
}


@pytest.fixture(scope="module")
def gan(paths):
    return load_assignment(paths, "generative_adversarial_networks")


def test_gan_solution_gets_full_marks(gan):
    report = grade_submission(gan.solution_notebook, gan, hidden=True)
    assert report.score == report.max_score == 33, [(c.name, c.message) for c in report.checks if not c.passed]


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_gan_mistakes_are_named(gan, tmp_path, scenario):
    function, source, words = SCENARIOS[scenario]
    notebook = replace_solution(gan.solution_notebook, tmp_path / f"submitted-{scenario}.ipynb", function, source)
    report = grade_submission(notebook, gan, hidden=True, config=GradingConfig(call_timeout_s=20))
    failed = [c for c in report.checks if not c.passed]
    assert failed and {c.function for c in failed} == {function}
    assert any(words in c.message for c in failed), [c.message for c in failed]
