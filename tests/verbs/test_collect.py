"""`vizgen collect`: a learning platform's bulk download laid out as nbgrader's submitted/ folder."""

import zipfile

import pytest

from vizgen.cli import main
from vizgen.collect import collect, student_of
from vizgen.errors import VizgenError
from vizgen.grade.discover import discover


def _download(path, members: dict[str, bytes]):
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


@pytest.mark.parametrize("member, student", [
    ("Ada Lovelace_1234_assignsubmission_file_/Notebook (1).ipynb", "Ada_Lovelace_1234"),  # Moodle: name and id
    ("lovelaceada_1234_5678_VariationalAutoencoders-1.ipynb", "lovelaceada"),  # Canvas: flat
    ("lovelaceada_LATE_1234_5678_VariationalAutoencoders.ipynb", "lovelaceada"),
    ("submissions/bob/VAE.ipynb", "bob"),
    ("../../etc/ev il/x.ipynb", "ev_il"),  # a member name is never a path
    ("Notebook (1).ipynb", ""),  # no student in a flat name without "_"
])
def test_the_student_is_read_from_the_platforms_names(member, student):
    assert student_of(member) == student


def test_a_download_is_laid_out_for_grading_and_what_cannot_be_placed_is_said(paths, assignment, tmp_path):
    notebook = assignment.release_notebook.read_bytes()
    download = _download(tmp_path / "download.zip", {
        "Ada Lovelace_1234_assignsubmission_file_/Notebook (1).ipynb": notebook,
        "bob_22_33_NetworkVisualization.ipynb": notebook,
        "cy_1_2_NetworkVisualization.ipynb": notebook,
        "cy_1_3_NetworkVisualization-1.ipynb": notebook + b" ",  # two notebooks: neither is guessed
        "dee_4_5_report.pdf": b"%PDF",
        "Notebook (1).ipynb": notebook,
        "__MACOSX/._bob_22_33_NetworkVisualization.ipynb": b"",
        "Ada Lovelace_1234_assignsubmission_file_/.ipynb_checkpoints/Notebook (1)-checkpoint.ipynb": notebook,
    })
    into = tmp_path / "submitted"
    done = collect(download, assignment, into)
    assert sorted(done.placed) == ["Ada_Lovelace_1234", "bob"]
    assert done.placed["bob"] == into / "bob" / assignment.name / assignment.notebook
    assert done.placed["bob"].read_bytes() == notebook
    refused = "\n".join(done.refused)
    assert "cy has 2 notebooks in this download" in refused and "dee_4_5_report.pdf: not a notebook" in refused
    assert "Notebook (1).ipynb: no student in its name" in refused and "MACOSX" not in refused
    assert not (into / "cy").exists()
    assert [h.student for h in discover(paths, [into])] == ["Ada_Lovelace_1234", "bob"]  # ready for `vizgen grade`

    again = collect(download, assignment, into)  # collecting twice changes nothing
    assert again.placed == {} and sorted(again.unchanged) == ["Ada_Lovelace_1234", "bob"]
    newer = _download(tmp_path / "newer.zip", {"bob_22_34_NetworkVisualization.ipynb": notebook + b"\n"})
    assert "already holds another notebook: pass --force" in collect(newer, assignment, into).refused[0]
    assert collect(newer, assignment, into, force=True).placed["bob"].read_bytes() == notebook + b"\n"


def test_the_command_fails_when_a_file_cannot_be_placed(assignment, tmp_path, capsys):
    download = _download(tmp_path / "d.zip", {"ada_1_2_x.ipynb": b"{}", "readme.txt": b"hi"})
    assert main(["collect", str(download), "--assignment", assignment.name, "--into", str(tmp_path / "s")]) == 1
    out, err = capsys.readouterr()
    assert "collected 1 notebooks" in out and "could not place readme.txt: not a notebook" in err
    with pytest.raises(VizgenError, match="not a zip file"):
        collect(tmp_path / "s" / "ada" / assignment.name / assignment.notebook, assignment, tmp_path / "t")
