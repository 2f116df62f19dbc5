"""`vizgen grade --jobs N`: N lanes, each a grader process that grades one hand-in after another.

Each lane is its own process (started with ``python -m vizgen.grade.lanes``); it imports torch once,
reads each assignment's checks once, runs its own torch work on its share of the cores (``--threads``:
the cores over the lanes) and keeps a sandboxed worker, forked from its pre-fork server
(``sandbox.prefork``), ready for its next submission (``grade_many``). The parent hands each lane its
next hand-in when it reports the last one done, so a slow submission (a student's infinite loop) holds
up one lane only. A lane writes each result to the store itself before it reports it: killing the
batch loses only the submissions being graded at that moment.

Protocol, one JSON object per line: parent -> lane {"student", "notebook", "assignment", "refused"};
lane -> parent {"done": [student, assignment]}. A lane that dies costs the hand-in it was grading,
stored at zero with the reason, and another lane takes its place.
"""

from __future__ import annotations

import argparse
import json
import os
import selectors
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from vizgen.course.config import COURSE_ROOT_ENV, CoursePaths, GradingConfig
from vizgen.errors import VizgenError
from vizgen.grade.discover import Handin
from vizgen.grade.store import ResultStore, notebook_digest


def _job(handin: Handin) -> str:
    return json.dumps({"student": handin.student, "notebook": str(handin.notebook.absolute()),
                       "assignment": handin.assignment.name, "refused": handin.refused}) + "\n"


def run_lanes(
    paths: CoursePaths,
    handins: list[Handin],
    jobs: int,
    hidden: bool,
    store: ResultStore,
    finished: Callable[[str, str], None],
    fresh_workers: bool = False,
    config: GradingConfig | None = None,
) -> None:
    """Grade ``handins`` in ``jobs`` lanes; ``finished(student, assignment)`` once each result is stored. A
    lane that dies costs the hand-in it was grading (stored at zero, with the reason) and is replaced."""
    config = config or GradingConfig()
    queue = list(reversed(handins))  # pop() takes the next in order
    command = [sys.executable, "-m", "vizgen.grade.lanes", "--store", str(store.root.resolve())]
    command += ["--isolation", config.isolation] + (["--require-isolation"] if config.require_isolation else [])
    command += ["--hidden"] if hidden else []
    command += ["--fresh-workers"] if fresh_workers else []
    command += ["--threads", str(max(1, (os.cpu_count() or 1) // jobs))]
    command += ["--warm", *handins[0].assignment.warm_imports]
    env = {**os.environ, COURSE_ROOT_ENV: str(paths.root)}
    selector = selectors.DefaultSelector()
    in_flight: dict[subprocess.Popen, Handin | None] = {}

    def start_lane() -> None:
        lane = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1, env=env)
        selector.register(lane.stdout, selectors.EVENT_READ, lane)
        in_flight[lane] = None
        _feed(lane, queue, in_flight)

    for _ in range(min(jobs, len(handins))):
        start_lane()
    try:
        while selector.get_map():
            for key, _ in selector.select():
                lane = key.data
                line = lane.stdout.readline()
                if not line:  # the lane died: what it was grading is stored at zero, and another lane goes on
                    selector.unregister(lane.stdout)
                    lost = in_flight.pop(lane)
                    code = lane.wait()
                    if lost is not None:
                        _store_lost(store, lost, hidden, code)
                        finished(lost.student, lost.assignment.name)
                    if queue:
                        start_lane()
                    continue
                try:
                    student, name = json.loads(line)["done"]
                except (ValueError, KeyError, TypeError):
                    continue  # not protocol: stray output from a library
                finished(student, name)
                _feed(lane, queue, in_flight)
    finally:
        for lane in in_flight:
            if lane.stdin and not lane.stdin.closed:
                lane.stdin.close()
            lane.wait()
    if queue:
        names = ", ".join(h.student for h in queue[::-1][:5])
        raise VizgenError(f"{len(queue)} submission(s) were not graded ({names}...): run the same command again "
                          "(finished students are kept), with --jobs 1 to see the error.")


def _store_lost(store: ResultStore, handin: Handin, hidden: bool, code: int) -> None:
    from vizgen.engine.submission import failed_report

    report = failed_report(handin.notebook, handin.assignment, hidden, (
        f"grading this notebook stopped its grading lane (exit code {code}): it scores zero for now; tell the course "
        "staff, who can regrade it with --force"))
    report.student = handin.student
    store.save(report, handin.student, notebook_digest(handin.notebook), hidden)


def _feed(lane: subprocess.Popen, queue: list[Handin], in_flight: dict) -> None:
    """Send the lane its next hand-in, or close its input (it then stops) when none is left."""
    if queue:
        in_flight[lane] = queue.pop()
        lane.stdin.write(_job(in_flight[lane]))
        lane.stdin.flush()
    else:
        in_flight[lane] = None
        lane.stdin.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="one grading lane (started by `vizgen grade --jobs N`)")
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--hidden", action="store_true")
    parser.add_argument("--warm", nargs="*", default=[])
    parser.add_argument("--fresh-workers", action="store_true",
                        help="a fresh interpreter per submission, no pre-fork server")
    parser.add_argument("--isolation", default="auto")
    parser.add_argument("--require-isolation", action="store_true")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads of this lane's own work (the cores over the lanes: no oversubscription)")
    args = parser.parse_args(argv)
    config = GradingConfig(isolation=args.isolation, require_isolation=args.require_isolation)
    from vizgen.sandbox.prefork import PreforkServer
    from vizgen.sandbox.spawn import spawn_worker

    # the prefork (or the first fresh worker) imports torch while this lane imports it too
    prefork = None if args.fresh_workers else PreforkServer(tuple(args.warm))  # lives as long as this lane
    spawn = spawn_worker if prefork is None else prefork.spawn
    worker = spawn_worker(tuple(args.warm)) if prefork is None else None
    from vizgen.engine import submission as engine  # noqa: F401 - torch and the checks' helpers
    import torch

    torch.set_num_threads(args.threads)  # N lanes of 2 threads each on 2 cores ran their checks 2.5x slower

    from vizgen.course.config import course_paths
    from vizgen.grade.handins import grade_many
    from vizgen.course.assignment import load_assignment

    paths, tasks, store = course_paths(), {}, ResultStore(args.store)

    def handins():
        for line in iter(sys.stdin.readline, ""):
            job = json.loads(line)
            if job["assignment"] not in tasks:
                tasks[job["assignment"]] = load_assignment(paths, job["assignment"])
            yield Handin(job["student"], Path(job["notebook"]), tasks[job["assignment"]], job.get("refused", ""))

    def report_done(handin: Handin, report) -> None:
        store.save(report, handin.student, notebook_digest(handin.notebook), args.hidden)
        print(json.dumps({"done": [handin.student, report.assignment]}), flush=True)

    try:
        grade_many(handins(), args.hidden, config, worker=worker, on_report=report_done, spawn=spawn)
    finally:
        if prefork is not None:
            prefork.close()  # waits for it: its workers' CPU time is then counted as this lane's


if __name__ == "__main__":
    main()
