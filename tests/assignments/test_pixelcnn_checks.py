"""The PixelCNN checks name the likely bug: each scenario breaks one function the way students do,
and the checks that fail (of that function, and of those built on it) say what went wrong; the
public checks alone already do (each mistake breaks a requirement the notebook states)."""

import pytest

from helpers import replace_solution
from vizgen.course.config import GradingConfig
from vizgen.course.assignment import load_assignment
from vizgen.engine.submission import grade_submission

MASKED = '''class MaskedConv2d(nn.Conv2d):
    def __init__(self, mask_type, in_channels, out_channels, kernel_size, **conv_kwargs):
        super().__init__(in_channels, out_channels, kernel_size, **conv_kwargs)
        k = kernel_size
        mask = torch.ones_like(self.weight)
        mask[:, :, k // 2, k // 2 + {shift}:] = 0
        mask[:, :, k // 2 + 1:] = 0
        self.register_buffer("mask", mask)
{tail}
'''
APPLIED = '''
    def forward(self, x):
        return self._conv_forward(x, self.weight * self.mask, self.bias)
'''
ONCE = '''        with torch.no_grad():
            self.weight *= self.mask  # applied once: training undoes it
'''
SAMPLE = '''def sample(model, n, seed, given=None, start=0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.zeros(n, 1, 28, 28)
    if given is not None:
        x.view(n, -1)[:, :start] = given.reshape(n, -1)[:, :start]
{body}
    return x
'''
RASTER = '''    with torch.no_grad():
        for k in range(start, 784):
            i, j = divmod(k, 28)
            p = torch.sigmoid(model(x)[:, 0, i, j])
            x[:, 0, i, j] = {draw}
'''
BERNOULLI = "torch.bernoulli(p, generator=generator)"

SCENARIOS = {  # name -> (function replaced, its new source, functions whose checks may fail, words in a message)
    "mask-a-includes-centre": ("MaskedConv2d", MASKED.format(shift=1, tail=APPLIED), {"MaskedConv2d", "PixelCNN"},
                               "includes the centre"),
    "masks-swapped": ("MaskedConv2d", MASKED.format(shift='(mask_type == "A")', tail=APPLIED),
                      {"MaskedConv2d", "PixelCNN"}, "A and B are swapped"),
    "mask-built-once-not-applied": ("MaskedConv2d", MASKED.format(shift='(mask_type == "B")', tail=ONCE),
                                    {"MaskedConv2d", "PixelCNN"}, "not applied in forward"),
    "nll-mean-over-pixels": ("pixelcnn_nll", "def pixelcnn_nll(logits, x):\n"
                             "    return F.binary_cross_entropy_with_logits(logits, x)\n", {"pixelcnn_nll"}, "a mean over pixels"),
    "nll-unstable": ("pixelcnn_nll", "def pixelcnn_nll(logits, x):\n    p = torch.sigmoid(logits)\n"
                     "    return -(x * torch.log(p) + (1 - x) * torch.log(1 - p)).sum() / len(x)\n", {"pixelcnn_nll"},
                     "not finite"),
    "sample-all-at-once": ("sample", SAMPLE.format(body="    with torch.no_grad():\n"
                           "        x = torch.bernoulli(torch.sigmoid(model(x)), generator=generator)\n"), {"sample"},
                           "once"),
    "sample-column-major": ("sample", SAMPLE.format(body=RASTER.format(draw=BERNOULLI).replace(
                            "i, j = divmod(k, 28)", "j, i = divmod(k, 28)")), {"sample"}, "column-major"),
    "sample-without-no-grad": ("sample", SAMPLE.format(body=RASTER.format(draw=BERNOULLI).replace(
                               "    with torch.no_grad():\n", "    if True:\n")), {"sample"}, "torch.no_grad()"),
    "sample-rounds-probabilities": ("sample", SAMPLE.format(body=RASTER.format(draw="(p > 0.5).float()")), {"sample"},
                                    "rounding the probability"),
    "sample-ignores-seed": ("sample", SAMPLE.format(body=RASTER.format(draw="torch.bernoulli(p)")), {"sample"},
                            "same seed gave different images"),
}


@pytest.fixture(scope="module")
def pixelcnn_assignment(paths):
    return load_assignment(paths, "pixelcnn")


def test_pixelcnn_solution_gets_full_marks(pixelcnn_assignment):
    report = grade_submission(pixelcnn_assignment.solution_notebook, pixelcnn_assignment, hidden=True)
    assert report.score == report.max_score == 21, [(c.name, c.message) for c in report.checks if not c.passed]


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_pixelcnn_mistakes_are_named(pixelcnn_assignment, tmp_path, scenario):
    function, source, affected, words = SCENARIOS[scenario]
    notebook = replace_solution(pixelcnn_assignment.solution_notebook, tmp_path / f"submitted-{scenario}.ipynb",
                                function, source)
    report = grade_submission(notebook, pixelcnn_assignment, hidden=True, config=GradingConfig(call_timeout_s=20))
    failed = [c for c in report.checks if not c.passed]
    assert failed and function in {c.function for c in failed} and {c.function for c in failed} <= affected, \
        [(c.function, c.message) for c in failed]
    assert any(words in c.message for c in failed if c.function == function), [c.message for c in failed]
    public = grade_submission(notebook, pixelcnn_assignment, hidden=False, config=GradingConfig(call_timeout_s=20))
    caught = [c.message for c in public.checks if not c.passed and c.function == function]
    assert any(words in m for m in caught), ("the public checks must name it too", caught)  # every stated requirement
