"""Every requirement a notebook states has a public check: each honest mistake below breaks one stated
requirement, and the PUBLIC checks alone (what `vizgen check` and the notebook's check cells run)
fail with a message that names it, before grading does."""

import pytest

from helpers import replace_solution
from vizgen.course.config import GradingConfig
from vizgen.course.assignment import load_assignment
from vizgen.engine.submission import grade_submission

NV, GAN = "network_visualization", "generative_adversarial_networks"
GUIDED = "def guided_backprop(X, y, model):\n"
D_STEP = "def discriminator_step(D, G, D_solver, discriminator_loss, x, z):\n"
G_STEP = "def generator_step(D, G, G_solver, generator_loss, z):\n"
HOOK = (
    "    def clamp(module, inputs, output):\n"
    "        output.register_hook(lambda grad: grad.clamp(min=0))\n"
)

# scenario -> (assignment, function, new source, words the public checks' message must contain)
MISTAKES = {
    "guided-plain-gradient": (NV, "guided_backprop", GUIDED + (
        "    X = X.detach().clone().requires_grad_()\n"
        "    model(X).gather(1, y.view(-1, 1)).sum().backward()\n"
        "    return X.grad\n"), "returned the plain gradient of s_y"),
    "guided-hooks-removed-without-finally": (NV, "guided_backprop", GUIDED + HOOK + (
        "    handles = [m.register_forward_hook(clamp) for m in model.modules()\n"
        "               if isinstance(m, (nn.ReLU, nn.ReLU6))]\n"
        "    X = X.detach().clone().requires_grad_()\n"
        "    model(X).gather(1, y.view(-1, 1)).sum().backward()\n"
        "    for h in handles:  # skipped when the forward raises\n"
        "        h.remove()\n"
        "    return X.grad\n"), "handle.remove() for each in `finally:`"),
    "guided-full-backward-hook-on-inplace-relu6": (NV, "guided_backprop", GUIDED + (
        "    handles = [m.register_full_backward_hook(lambda mod, gi, go: (gi[0].clamp(min=0),))\n"
        "               for m in model.modules() if isinstance(m, (nn.ReLU, nn.ReLU6))]\n"
        "    try:\n"
        "        X = X.detach().clone().requires_grad_()\n"
        "        model(X).gather(1, y.view(-1, 1)).sum().backward()\n"
        "        return X.grad\n"
        "    finally:\n"
        "        for h in handles:\n"
        "            h.remove()\n"), "which register_full_backward_hook cannot wrap"),
    "occlusion-one-forward-per-patch": (NV, "occlusion_map", (
        "def occlusion_map(X, y, model, patch_size=32, stride=16, fill=0.0, batch_size=64):\n"
        "    N, _, H, W = X.shape\n"
        "    rows, cols = (H - patch_size) // stride + 1, (W - patch_size) // stride + 1\n"
        "    out = torch.empty(N, rows, cols)\n"
        "    with torch.no_grad():\n"
        "        for n in range(N):\n"
        "            for i in range(rows):\n"
        "                for j in range(cols):\n"
        "                    Z = X[n : n + 1].clone()\n"
        "                    Z[:, :, i * stride : i * stride + patch_size, j * stride : j * stride + patch_size] = fill\n"
        "                    out[n, i, j] = model(Z).softmax(dim=1)[0, y[n]]\n"
        "    return out\n"), "stack the occluded copies"),
    "saliency-forgot-abs": (NV, "compute_saliency_maps", (
        "def compute_saliency_maps(X, y, model):\n"
        "    X = X.detach().clone().requires_grad_()\n"
        "    model(X).gather(1, y.view(-1, 1)).sum().backward()\n"
        "    return X.grad.amax(dim=1)\n"), "take |gradient| before the max"),
    "noise-not-mapped-to-minus-one": (GAN, "sample_noise", (
        "def sample_noise(batch_size, dim):\n"
        "    return torch.rand(batch_size, dim)\n"), "map it with 2 * torch.rand(...) - 1"),
    "discriminator-loss-log-sigmoid": (GAN, "discriminator_loss", (
        "def discriminator_loss(logits_real, logits_fake):\n"
        "    return -torch.log(torch.sigmoid(logits_real)).mean() - torch.log(1 - torch.sigmoid(logits_fake)).mean()\n"),
        "never log(sigmoid(x))"),
    "discriminator-leaky-0.2": (GAN, "discriminator", (
        "def discriminator():\n"
        "    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.LeakyReLU(0.2), nn.Linear(256, 256),\n"
        "                         nn.LeakyReLU(0.2), nn.Linear(256, 1))\n"), "slope is 0.01"),
    "dc-classifier-leaky-0.2": (GAN, "build_dc_classifier", (
        "def build_dc_classifier():\n"
        "    return nn.Sequential(nn.Unflatten(1, (1, 28, 28)), nn.Conv2d(1, 32, 5), nn.LeakyReLU(0.2), nn.MaxPool2d(2),\n"
        "                         nn.Conv2d(32, 64, 5), nn.LeakyReLU(0.2), nn.MaxPool2d(2), nn.Flatten(),\n"
        "                         nn.Linear(1024, 1024), nn.LeakyReLU(0.2), nn.Linear(1024, 1))\n"), "slope 0.01 (not 0.2)"),
    "dc-generator-batch-norm-before-relu": (GAN, "build_dc_generator", (
        "def build_dc_generator(noise_dim=96):\n"
        "    return nn.Sequential(\n"
        "        nn.Linear(noise_dim, 1024), nn.BatchNorm1d(1024), nn.ReLU(),\n"
        "        nn.Linear(1024, 7 * 7 * 128), nn.BatchNorm1d(7 * 7 * 128), nn.ReLU(), nn.Unflatten(1, (128, 7, 7)),\n"
        "        nn.ConvTranspose2d(128, 64, 4, stride=2, padding=1), nn.BatchNorm2d(64), nn.ReLU(),\n"
        "        nn.ConvTranspose2d(64, 1, 4, stride=2, padding=1), nn.Tanh(), nn.Flatten())\n"),
        "batch norm comes after the ReLU"),
    "discriminator-step-forgot-detach": (GAN, "discriminator_step", D_STEP + (
        "    scores_real, scores_fake = D(x), D(G(z))\n"
        "    loss = discriminator_loss(scores_real, scores_fake)\n"
        "    D_solver.zero_grad()\n"
        "    loss.backward()\n"
        "    D_solver.step()\n"
        "    return loss.detach(), scores_real.detach(), scores_fake.detach()\n"), "detach the fakes"),
    "discriminator-step-forgot-zero-grad": (GAN, "discriminator_step", D_STEP + (
        "    scores_real, scores_fake = D(x), D(G(z).detach())\n"
        "    loss = discriminator_loss(scores_real, scores_fake)\n"
        "    loss.backward()\n"
        "    D_solver.step()\n"
        "    return loss.detach(), scores_real.detach(), scores_fake.detach()\n"), "no D_solver.zero_grad()"),
    "generator-step-detached-fakes": (GAN, "generator_step", G_STEP + (
        "    loss = generator_loss(D(G(z).detach()))\n"
        "    G_solver.zero_grad()\n"
        "    loss.backward()\n"
        "    G_solver.step()\n"
        "    return loss.detach()\n"), "do not detach G(z) in G's step"),
    "generator-step-forgot-zero-grad": (GAN, "generator_step", G_STEP + (
        "    loss = generator_loss(D(G(z)))\n"
        "    loss.backward()\n"
        "    G_solver.step()\n"
        "    return loss.detach()\n"), "no G_solver.zero_grad()"),
}


@pytest.fixture(scope="module")
def assignments(paths):
    return {name: load_assignment(paths, name) for name in (NV, GAN)}


@pytest.mark.parametrize("scenario", sorted(MISTAKES))
def test_public_checks_name_the_mistake(assignments, tmp_path, scenario):
    name, function, source, words = MISTAKES[scenario]
    task = assignments[name]
    notebook = replace_solution(task.solution_notebook, tmp_path / f"submitted-{scenario}.ipynb", function, source)
    report = grade_submission(notebook, task, hidden=False, config=GradingConfig(call_timeout_s=20))
    failed = [c for c in report.checks if not c.passed]
    assert failed and {c.function for c in failed} == {function}, [(c.function, c.message) for c in failed]
    assert any(words in c.message for c in failed), [c.message for c in failed]


def test_forgotten_abs_is_not_also_blamed_on_the_softmax(assignments, tmp_path):
    """A check gives the hint for its own failure: a missing abs is not told "not the softmax or the loss"."""
    _, function, source, _ = MISTAKES["saliency-forgot-abs"]
    notebook = replace_solution(assignments[NV].solution_notebook, tmp_path / "submitted-no-abs.ipynb", function, source)
    report = grade_submission(notebook, assignments[NV], hidden=False)
    assert not any("softmax" in c.message for c in report.checks if not c.passed)
