"""The style transfer checks name the likely bug: one submission breaks each function the way students do."""

import pytest

from helpers import replace_solution
from vizgen.course.config import GradingConfig
from vizgen.course.assignment import load_assignment
from vizgen.engine.submission import grade_submission

MISTAKES = {
    "gram_matrix": ((
        "def gram_matrix(features, normalize=True):\n"
        "    n, c, h, w = features.shape\n"
        "    flat = features.reshape(n, c, h * w)\n"
        "    return (flat @ flat.transpose(1, 2)).sum(0) / (c * h * w)\n"), "summed over the batch"),
    "content_loss": ((
        "def content_loss(content_weight, content_current, content_original):\n"
        "    return content_weight * (content_current - content_original).abs().sum()\n"), "absolute values (L1)"),
    "style_loss": ((
        "def style_loss(feats, style_layers, style_targets, style_weights):\n"
        "    weights = style_weights[::-1]\n"
        "    return sum(w * ((gram_matrix(feats[l]) - t) ** 2).sum() for l, t, w in zip(style_layers, style_targets, weights))\n"),
        "the layer weights in reverse order"),
    "tv_loss": ((
        "def tv_loss(img, tv_weight):\n"
        "    total = 0.0\n"
        "    for i in range(img.shape[2]):\n"
        "        for j in range(img.shape[3]):\n"
        "            if i + 1 < img.shape[2]:\n"
        "                total = total + ((img[:, :, i + 1, j] - img[:, :, i, j]) ** 2).sum()\n"
        "            if j + 1 < img.shape[3]:\n"
        "                total = total + ((img[:, :, i, j + 1] - img[:, :, i, j]) ** 2).sum()\n"
        "    return tv_weight * total\n"), "a Python loop over pixels"),
    "instance_norm": ((
        "def instance_norm(x, weight, bias, eps=1e-5):\n"
        "    mean = x.mean(dim=(2, 3), keepdim=True)\n"
        "    std = x.std(dim=(2, 3), unbiased=False, keepdim=True)\n"
        "    return (x - mean) / (std + eps) * weight.view(1, -1, 1, 1) + bias.view(1, -1, 1, 1)\n"),
        "eps inside the square root"),
    "synthesize_texture_nn": ((
        "def synthesize_texture_nn(sample, out_size, window=7, seed=0):\n"
        "    rng = np.random.default_rng(seed)\n"
        "    mean = np.asarray(sample).reshape(-1, 3).mean(0)\n"
        "    noise = rng.integers(-3, 4, (out_size, out_size, 3))\n"
        "    return np.clip(mean + noise, 0, 255).astype(np.uint8)\n"), "do not occur in the sample"),
}


@pytest.fixture(scope="module")
def graded(paths, tmp_path_factory):
    """The solution with every function above broken, graded once (all hidden checks)."""
    task = load_assignment(paths, "style_transfer")
    notebook = task.solution_notebook
    folder = tmp_path_factory.mktemp("style")
    for k, (function, (source, _)) in enumerate(MISTAKES.items()):
        notebook = replace_solution(notebook, folder / f"submitted-mistakes-{k}.ipynb", function, source)
    return grade_submission(notebook, task, hidden=True, config=GradingConfig(call_timeout_s=60))


def test_style_solution_gets_full_marks(paths):
    task = load_assignment(paths, "style_transfer")
    report = grade_submission(task.solution_notebook, task, hidden=True)
    assert report.score == report.max_score == 25, [(c.name, c.message) for c in report.checks if not c.passed]


@pytest.mark.parametrize("function", sorted(MISTAKES))
def test_style_mistakes_are_named(graded, function):
    failed = [c for c in graded.checks if c.function == function and not c.passed]
    words = MISTAKES[function][1]
    assert failed and any(words in c.message for c in failed), [c.message for c in failed]


def test_transformer_net_with_transposed_convolutions_is_refused(paths, tmp_path):
    task = load_assignment(paths, "style_transfer")
    source = (
        "class TransformerNet(nn.Module):\n"
        "    def __init__(self, base_channels=16, num_residual=3):\n"
        "        super().__init__()\n"
        "        c = base_channels\n"
        "        self.net = nn.Sequential(nn.Conv2d(3, c, 3, stride=2, padding=1), nn.ReLU(),\n"
        "                                 nn.ConvTranspose2d(c, 3, 4, stride=2, padding=1))\n"
        "\n"
        "    def forward(self, x):\n"
        "        return self.net(x)\n"
    )
    notebook = replace_solution(task.solution_notebook, tmp_path / "submitted-checkerboard.ipynb", "TransformerNet", source)
    report = grade_submission(notebook, task, hidden=False)
    failed = [c for c in report.checks if not c.passed]
    assert {c.function for c in failed} == {"TransformerNet"}
    assert any("ConvTranspose2d, which draws checkerboard" in c.message for c in failed), [c.message for c in failed]
    assert any("outputs shape (2, 3, 34, 30); expected (2, 3, 33, 29)" in c.message for c in failed)
