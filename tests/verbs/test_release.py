"""`vizgen release`: the bundle holds what students need and refuses anything that must not ship."""

import zipfile

import pytest

from vizgen.cli import main
from vizgen.course.config import CoursePaths
from vizgen.release import audit, bundle_files, release


def test_bundle_is_complete_and_clean(paths, assignment, tmp_path):
    bundle = tmp_path / "student.zip"
    release(paths, [assignment.name], bundle, log=lambda _: None)
    names = set(zipfile.ZipFile(bundle).namelist())
    assert f"assignments/{assignment.name}/{assignment.notebook}" in names
    assert f"autograder/{assignment.name}/public/test_saliency.py" in names
    assert f"autograder/{assignment.name}/assignment.toml" in names
    assert f"autograder/{assignment.name}/probes.py" in names  # the public checks import it
    assert f"autograder/{assignment.name}/public/hidden_checks.json" in names  # what `vizgen check` lists
    assert "vizgen/engine/submission.py" in names and "pyproject.toml" in names and "datasets/README.md" in names
    assert "datasets/styles/starry_night.jpg" in names and "datasets/styles/PROVENANCE.md" in names
    secret = ("solutions/", f"autograder/{assignment.name}/hidden/", f"autograder/{assignment.name}/references/")
    assert not [n for n in names if n.startswith(secret)]


@pytest.mark.parametrize("leak", ["hidden-check", "reference", "solution-notebook", "solution-code"])
def test_audit_refuses_leaks(paths, assignment, tmp_path, leak):
    files = bundle_files(paths, [assignment])
    if leak == "hidden-check":
        files.append(next(assignment.hidden.glob("test_*.py")))
    elif leak == "reference":
        files.append(assignment.references / "cpu.pt")
    elif leak == "solution-notebook":
        files.append(assignment.solution_notebook)
    else:  # a released notebook that still carries a solution line
        fake_root = tmp_path / "course"
        leaked = fake_root / "assignments" / assignment.name / assignment.notebook
        leaked.parent.mkdir(parents=True)
        source = (assignment.solution_notebook.read_text().replace("### BEGIN SOLUTION", "")
                  .replace("### END SOLUTION", ""))
        leaked.write_text(source)
        problems = audit(CoursePaths(fake_root), [leaked], [assignment])
        assert any("solution code" in p for p in problems)
        return
    assert audit(paths, files, [assignment])


def test_release_cli_refuses_a_leaking_bundle(paths, assignment, tmp_path, monkeypatch, capsys):
    import vizgen.release as release_module

    real = release_module.bundle_files
    monkeypatch.setattr(release_module, "bundle_files",
                        lambda p, t: real(p, t) + [assignment.references / "cpu.pt"])
    bundle = tmp_path / "student.zip"
    code = main(["release", "--assignment", assignment.name, "--bundle", str(bundle)])
    assert code != 0 and not bundle.exists()
    assert "refusing to write the bundle" in capsys.readouterr().err



_LEAKY = '''

def leaky_gram(features, normalize=True):
    flat = features.flatten(2)
    products = flat @ flat.transpose(1, 2)
    return products / flat[0].numel() if normalize else products
'''


def test_reproduction_audit_refuses_a_shipped_correct_answer(paths, tmp_path):
    """A probes module that computes a graded function's answer, however it is written, is found by running it
    on the hidden cases' inputs."""
    import dataclasses

    from vizgen.course.assignment import load_assignment
    from vizgen.release.reproduction import audit_assignment

    task = load_assignment(paths, "style_transfer")
    probes = tmp_path / "probes.py"
    probes.write_text(task.probes_file.read_text() + _LEAKY)
    leaky = dataclasses.replace(task, config=dataclasses.replace(task.config, probes=str(probes)))
    leaks = audit_assignment(leaky)
    assert any("leaky_gram reproduces the solution's gram_matrix" in leak for leak in leaks), leaks
    assert audit_assignment(task) == []


def test_public_case_store_may_not_hold_a_hidden_case(paths, assignment, tmp_path):
    from vizgen.engine.stores import ReferenceStore, save_store

    fake_root = tmp_path / "course"
    store = fake_root / "autograder" / assignment.name / "public" / "references.pt"
    save_store(store, ReferenceStore.hidden(assignment.references).load())  # the hidden cases, as if public
    problems = audit(CoursePaths(fake_root), [store], [assignment])
    assert any("has the inputs of a hidden case" in p for p in problems), problems
