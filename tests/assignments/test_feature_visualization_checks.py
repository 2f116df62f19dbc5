"""The feature visualization checks name the likely bug: each scenario breaks functions the way students do.

Grading a notebook costs seconds, so each submission below carries at most one mistake per function
(nine functions are graded independently, in processes of their own); every mistake must fail its own
function's checks with words that name it, and leave the other functions' checks passing.
"""

import nbformat
import pytest

from helpers import replace_solution
from vizgen.course.config import GradingConfig
from vizgen.course.assignment import load_assignment
from vizgen.engine.submission import grade_submission

# function -> {mistake: (solution text, replacement, words in a failing check's message)}
MISTAKES = {
    "filter_grid": {
        "one-range": ("lo, hi = flat.amin(dim=1), flat.amax(dim=1)", "lo, hi = flat.min().expand(K), flat.max().expand(K)",
                      "one min and max"),
        "per-channel": ("lo, hi = flat.amin(dim=1), flat.amax(dim=1)  # (K,) each: one range per filter\n"
                        "    scaled = (flat - lo[:, None]) / (hi - lo).clamp_min(1e-12)[:, None]",
                        "per = flat.view(K, 3, -1)\n"
                        "    lo, hi = per.amin(dim=2, keepdim=True), per.amax(dim=2, keepdim=True)\n"
                        "    scaled = ((per - lo) / (hi - lo).clamp_min(1e-12)).flatten(1)", "each colour channel"),
    },
    "extract_features": {
        "logits": ("return captured[-1].flatten(1).float()", "return model(X).float()", "returned the logits"),
        "no-finally": ("    try:\n        with torch.no_grad():\n            model(X)\n    finally:\n        handle.remove()",
                       "    with torch.no_grad():\n        model(X)\n    handle.remove()", "left 1 hook(s)"),
    },
    "nearest_neighbors": {
        "farthest": ("dist.argsort(dim=1, stable=True)", "dist.argsort(dim=1, descending=True)", "farthest rows first"),
        "pair-loop": ("dist = (q * q).sum(1, keepdim=True) - 2 * q @ d.T + (d * d).sum(1)",
                      "dist = torch.stack([torch.stack([(a - b).pow(2).sum() for b in d]) for a in q])",
                      "torch calls"),
    },
    "pca": {
        "uncentred": ("centred = features - features.mean(dim=0)", "centred = features", "uncentred"),
        "columns": ("components = Vh[:k]  # (k, D)\n    return centred @ components.T",
                    "components = Vh[:k].T  # (D, k)\n    return centred @ components", "one component per ROW"),
    },
    "get_activations": {
        "no-clone": ("captured.append(output.detach().clone())", "captured.append(output.detach())",
                     "overwritten by the in-place ReLU6"),
    },
    "receptive_field": {
        "no-stride-scaling": ("size += (span - 1) * stride", "size += span - 1", "without scaling it by the stride"),
        "no-padding": ("offset -= padding * stride", "offset -= 0", "offset ignores padding"),
        "no-dilation": ("span = dilation * (kernel - 1) + 1", "span = kernel", "ignores dilation"),
    },
    "max_activating_patches": {
        "border-not-zero": ("F.pad(images.detach(), (margin,) * 4)", "F.pad(images.detach(), (margin,) * 4, value=-1.0)",
                            "border"),
        "smallest-first": ("values, flat = act.flatten().topk(k)", "values, flat = act.flatten().topk(k)\n    flat = flat.flip(0)",
                           "not largest first"),
    },
    "guided_backprop_neuron": {
        "plain-gradient": ("output.register_hook(lambda grad: grad.clamp(min=0))", "pass", "plain gradient"),
        "no-finally": ("    finally:\n        for handle in handles:\n            handle.remove()",
                       "    except Exception:\n        raise\n    for handle in handles:\n        handle.remove()", "left"),
        "no-clone": ("        return output.clone()  # later in-place activations change the clone, not the neuron we kept",
                     "        return None", "overwritten its output"),
    },
    "deepdream_step": {
        "descends": ("return (img.detach() + learning_rate", "return (img.detach() - learning_rate", "descends"),
        "max-normalised": ("g / (g.abs().mean() + 1e-8)", "g / (g.abs().max() + 1e-8)", "largest absolute value"),
        "in-place": ("return (img.detach() + learning_rate * g / (g.abs().mean() + 1e-8)).float()",
                     "img.data += learning_rate * g / (g.abs().mean() + 1e-8)\n    return img.detach().clone()",
                     "modified its input img in place"),
    },
}

# Submissions: each takes at most one mistake per function.
SUBMISSIONS = [
    {f: names[0] for f, names in ((f, list(m)) for f, m in MISTAKES.items())},
    {f: names[1] for f, names in ((f, list(m)) for f, m in MISTAKES.items()) if len(names) > 1},
    {f: names[2] for f, names in ((f, list(m)) for f, m in MISTAKES.items()) if len(names) > 2},
]


@pytest.fixture(scope="module")
def task(paths):
    return load_assignment(paths, "feature_visualization")


def test_every_mistake_is_in_a_submission():
    assert sum(len(s) for s in SUBMISSIONS) == sum(len(m) for m in MISTAKES.values())


def test_solution_gets_full_marks(task):
    report = grade_submission(task.solution_notebook, task, hidden=True)
    assert report.score == report.max_score == 39, [(c.name, c.message) for c in report.checks if not c.passed]


def _broken(task, folder, submission: dict) -> nbformat.NotebookNode:
    nb = nbformat.read(task.solution_notebook, as_version=4)
    sources = {c.metadata.get("nbgrader", {}).get("grade_id"): c.source for c in nb.cells}
    path = task.solution_notebook
    for function, mistake in submission.items():
        old, new, _ = MISTAKES[function][mistake]
        assert old in sources[function], f"{function}: the scenario's solution text is gone: {old!r}"
        path = replace_solution(path, folder / f"submitted-{len(submission)}-mistakes.ipynb", function,
                                sources[function].replace(old, new))
    return path


@pytest.mark.parametrize("index", range(len(SUBMISSIONS)))
def test_mistakes_are_named(task, tmp_path, index):
    submission = SUBMISSIONS[index]
    report = grade_submission(_broken(task, tmp_path, submission), task, hidden=True,
                              config=GradingConfig(call_timeout_s=20))
    failed = {}
    for check in report.checks:
        if not check.passed:
            failed.setdefault(check.function, []).append(check.message)
    assert set(failed) == set(submission), {f: m[:1] for f, m in failed.items()}
    for function, mistake in submission.items():
        words = MISTAKES[function][mistake][2]
        assert any(words in message for message in failed[function]), (function, mistake, failed[function])
