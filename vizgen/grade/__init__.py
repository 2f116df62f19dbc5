"""`vizgen grade NOTEBOOK_OR_FOLDER ... [--hidden] [--jobs N] [--out DIR]`: the fast grader, one
submission or a whole class.

``grade`` finds the hand-ins (``discover``), skips those already graded in the result store
(``store``; a rerun after a kill loses nothing), grades the rest in this process or in N lanes
(``lanes``), then writes the CSV, Gradescope JSON, the instructor's HTML report (``report``) and,
if asked, nbgrader's gradebook (``gradebook``). ``handins.grade_many`` is the loop of one lane:
the worker for the next submission starts while the current one is graded. ``shard`` splits a class
over machines (``--shard I/N``) and ``merge_shards`` joins their results (``--merge``).
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from vizgen.course.config import CoursePaths, GradingConfig
from vizgen.errors import VizgenError
from vizgen.grade.discover import Handin, discover
from vizgen.grade.store import ResultStore, notebook_digest
from vizgen.engine.results import GradeReport, write_csv, write_json
from vizgen.grade.handins import grade_many
from vizgen.grade.shard import merge, select, write_plan, write_records


@dataclass
class Batch:
    """What ``grade`` did: every hand-in's report (in hand-in order) and how many came from the store."""

    reports: list[GradeReport]
    reused: int = 0
    outputs: list[Path] = field(default_factory=list)


def _json_targets(reports: list[GradeReport], json_out: Path) -> dict[int, Path]:
    if len(reports) == 1:
        return {0: json_out}
    several = len({r.assignment for r in reports}) > 1
    return {i: json_out / (f"{r.student}__{r.assignment}.json" if several else f"{r.student}.json")
            for i, r in enumerate(reports)}


def _progress(total: int):
    """A tqdm bar on a terminal only (a log or a test's captured stderr gets none)."""
    from tqdm import tqdm

    return tqdm(total=total, unit="submission", disable=not sys.stderr.isatty(), file=sys.stderr)


def grade(
    paths: CoursePaths,
    targets: list[Path],
    assignment: str | None = None,
    hidden: bool = False,
    jobs: int = 1,
    out: Path | None = None,
    force: bool = False,
    json_out: Path | None = None,
    csv_out: Path | None = None,
    gradebook: Path | None = None,
    config: GradingConfig | None = None,
    fresh_workers: bool = False,
    shard: tuple[int, int] | None = None,
) -> Batch:
    """Grade every hand-in under ``targets``; with ``out``, keep per-student results there (resumable)
    and write ``grades.csv`` and ``report.html`` beside them. ``shard`` (I, N): only the I-th of N parts of the
    class (``shard.select``), with ``out/shard.json`` saying which, for ``merge_shards``.

    Several submissions get forked workers from a pre-fork server (``sandbox.prefork``) unless ``fresh_workers``:
    then each gets a fresh interpreter, as a single submission always does.
    """
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}: pass --jobs 1 or more.")
    handins = discover(paths, targets, assignment)
    if shard is not None:
        if out is None:
            raise VizgenError("--shard needs --out: each shard keeps its results there for `vizgen grade --merge`.")
        handins = select(handins, *shard)
        write_plan(out, *shard, hidden, handins)
    with tempfile.TemporaryDirectory(prefix="vizgen-grade-") as scratch:
        store = ResultStore(out if out is not None else Path(scratch))
        done: dict[int, GradeReport] = {}
        if not force:
            for index, h in enumerate(handins):
                previous = store.finished(h.student, h.assignment.name, notebook_digest(h.notebook), hidden)
                if previous is not None:
                    done[index] = previous
        reused = len(done)
        todo = [i for i in range(len(handins)) if i not in done]
        position = {(handins[i].student, handins[i].assignment.name): i for i in todo}

        def save(handin: Handin, report: GradeReport) -> None:  # graded here: store it
            store.save(report, handin.student, notebook_digest(handin.notebook), hidden)
            stored(handin.student, handin.assignment.name, report)

        def stored(student: str, name: str, report: GradeReport | None = None) -> None:  # now in the store
            index = position[student, name]
            if report is None:  # a lane stored it
                report = store.finished(student, name, notebook_digest(handins[index].notebook), hidden)
            if report is None:
                raise VizgenError(f"{student}'s result is missing from {store.root} although its lane finished it: "
                                  "is another `vizgen grade` writing there? Rerun with --force.")
            done[index] = report
            bar.update(1)

        with _progress(len(todo)) as bar:
            pending = [handins[i] for i in todo]
            if len(pending) == 1 or (pending and jobs == 1 and fresh_workers):
                grade_many(pending, hidden, config, on_report=save)
            elif pending and jobs == 1:
                from vizgen.sandbox.prefork import PreforkServer

                prefork = PreforkServer(pending[0].assignment.warm_imports)
                from vizgen.engine import submission as engine  # noqa: F401 - torch, while the prefork imports it too

                try:
                    grade_many(pending, hidden, config, on_report=save, spawn=prefork.spawn)
                finally:
                    prefork.close()
            elif pending:
                from vizgen.grade.lanes import run_lanes

                run_lanes(paths, pending, jobs, hidden, store, stored, fresh_workers, config)
    batch = Batch([done[i] for i in range(len(handins))], reused)
    batch.outputs = _write_outputs(batch.reports, out, csv_out, json_out, gradebook)
    return batch


def merge_shards(folders: list[Path], out: Path, json_out: Path | None = None, csv_out: Path | None = None,
                 gradebook: Path | None = None) -> Batch:
    """Join the ``--out`` folders of a ``--shard I/N`` run into ``out``: one store, CSV, report and gradebook."""
    reports, records = merge(folders)
    write_records(out, records)
    batch = Batch(reports, reused=len(reports))
    batch.outputs = _write_outputs(reports, out, csv_out, json_out, gradebook)
    return batch


def _write_outputs(reports: list[GradeReport], out: Path | None, csv_out: Path | None, json_out: Path | None,
                   gradebook: Path | None) -> list[Path]:
    """The class's files: CSV and HTML report in ``out``, CSV, Gradescope JSON, nbgrader's gradebook."""
    written = []
    if out is not None:
        from vizgen.grade.report import write_report

        write_csv(reports, out / "grades.csv")
        written += [out / "grades.csv", write_report(reports, out / "report.html")]
    if csv_out is not None:
        write_csv(reports, csv_out)
        written.append(csv_out)
    if json_out is not None:
        for index, target in _json_targets(reports, json_out).items():
            write_json(reports[index], target)
        written.append(json_out)
    if gradebook is not None:
        from vizgen.grade.gradebook import write_gradebook

        for problem in write_gradebook(gradebook, reports):
            print(f"gradebook: {problem}", file=sys.stderr)
        written.append(gradebook)
    return written
