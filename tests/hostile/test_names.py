"""Names come from the course, never from the student: a notebook's metadata or a kernel's request that names
an assignment by a path reaches nothing outside autograder/, and the check server serves one assignment."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import threading
from multiprocessing.connection import Connection
from pathlib import Path

from helpers import solution_cell, write_notebook
from vizgen.engine.kernel import Records, serve_checks
from vizgen.sandbox import wire

_EVIL_CHECK = """\
from pathlib import Path
from vizgen.author import check

Path({marker!r}).write_text("the student's own check ran as the grader")


@check(points=1, function="anything")
def test_anything(student):
    \"\"\"runs as the grader\"\"\"
"""


def test_notebook_metadata_cannot_name_a_folder_of_the_student(paths, tmp_path):
    evil = tmp_path / "evil"
    (evil / "public").mkdir(parents=True)
    marker = tmp_path / "ran-as-grader.txt"
    (evil / "assignment.toml").write_text('notebook = "Evil.ipynb"\n')
    (evil / "public" / "test_evil.py").write_text(_EVIL_CHECK.format(marker=str(marker)))
    relative = os.path.relpath(evil, paths.autograder)
    notebook = write_notebook(tmp_path / "Evil.ipynb", [solution_cell("anything", "def anything():\n    return 1\n")],
                              metadata={"vizgen": {"assignment": relative}})
    done = subprocess.run([sys.executable, "-m", "vizgen.cli", "grade", str(notebook)], capture_output=True, text=True,
                          timeout=120, cwd=paths.root)
    assert done.returncode == 2 and "cannot tell which assignment" in done.stderr, done.stderr
    assert not marker.exists()


def _ask(conn: Connection, request: dict) -> dict:
    conn.send_bytes(wire.encode({"check": request}))
    return wire.decode(conn.recv_bytes())


def test_check_server_serves_only_its_assignment_and_its_functions(paths, tmp_path):
    ours, theirs = socket.socketpair()
    server = threading.Thread(target=serve_checks, daemon=True, args=(
        Connection(theirs.detach()), paths.root, "network_visualization", Records(tmp_path), None))
    server.start()
    conn = Connection(ours.detach())
    try:
        for assignment, function in (("../../tmp", "x"), ("pixelcnn", "sample"), ("network_visualization", "open"),
                                     (["network_visualization"], "x")):
            reply = _ask(conn, {"assignment": assignment, "function": function, "hidden": True})
            assert "refused" in reply, (assignment, function, reply)
    finally:
        conn.close()
        server.join(5)
    assert not (tmp_path / "scores.json").exists()  # nothing was recorded for a refused request


def test_a_kernel_request_cannot_name_an_assignment_by_path(paths):
    from vizgen.engine.kernel import _assignment_name
    from vizgen.course.assignment import available

    known = available(paths)
    assert _assignment_name("network_visualization", known) == "network_visualization"
    for name in ("../network_visualization", "/etc", "network_visualization/../pixelcnn", "", None, 3):
        assert _assignment_name(name, known) is None


def test_extraction_survives_hostile_metadata(tmp_path):
    from vizgen.course.notebook import extract_submission

    cell = solution_cell("../../etc/passwd", textwrap.dedent("""\
        def f():
            return 1
    """))
    notebook = write_notebook(tmp_path / "n.ipynb", [cell])
    submission = extract_submission(notebook)
    assert [filename for filename, _ in submission.cells] == ["<cell cell 1>"]  # the id reduced to a position
    assert Path(submission.path) == notebook
