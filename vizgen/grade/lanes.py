"""`vizgen grade --jobs N`: N lanes, each a grader process that grades one hand-in after another.

pytest, which runs the checks, is not thread-safe, so each lane is its own process (started
with ``python -m vizgen.grade.lanes``); it imports torch once and keeps a sandboxed worker,
forked from its pre-fork server (``sandbox.prefork``), ready for its next submission (``grade_many``). The parent hands each lane its next
hand-in when it reports the last one done, so a slow submission (a student's infinite loop)
holds up one lane only. A lane writes each result to the store itself before it reports it:
killing the batch loses only the submissions being graded at that moment.

Protocol, one JSON object per line: parent -> lane {"student", "notebook", "assignment"};
lane -> parent {"done": [student, assignment]}.
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
from vizgen.grade.store import ResultStore


def _job(handin: Handin) -> str:
    return json.dumps({"student": handin.student, "notebook": str(handin.notebook.resolve()),
                       "assignment": handin.assignment.name}) + "\n"


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
    """Grade ``handins`` in ``jobs`` lanes; ``finished(student, assignment)`` once each result is stored."""
    config = config or GradingConfig()
    queue = list(reversed(handins))  # pop() takes the next in order
    command = [sys.executable, "-m", "vizgen.grade.lanes", "--store", str(store.root.resolve())]
    command += ["--isolation", config.isolation] + (["--require-isolation"] if config.require_isolation else [])
    command += ["--hidden"] if hidden else []
    command += ["--fresh-workers"] if fresh_workers else []
    command += ["--warm", *handins[0].assignment.warm_imports]
    env = {**os.environ, COURSE_ROOT_ENV: str(paths.root)}
    selector = selectors.DefaultSelector()
    in_flight: dict[subprocess.Popen, Handin | None] = {}
    lost: list[Handin] = []
    for _ in range(min(jobs, len(handins))):
        lane = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1, env=env)
        selector.register(lane.stdout, selectors.EVENT_READ, lane)
        in_flight[lane] = None
    try:
        for lane in in_flight:
            _feed(lane, queue, in_flight)
        while selector.get_map():
            for key, _ in selector.select():
                lane = key.data
                line = lane.stdout.readline()
                if not line:  # the lane died: what it was grading is not stored
                    selector.unregister(lane.stdout)
                    if in_flight[lane] is not None:
                        lost.append(in_flight[lane])
                    in_flight[lane] = None
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
    ungraded = lost + queue[::-1]
    if ungraded:
        names = ", ".join(h.student for h in ungraded[:5])
        raise VizgenError(f"a grading lane died; {len(ungraded)} submission(s) not graded ({names}...): run the same "
                          "command again (finished students are kept), with --jobs 1 to see the lane's error.")


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
    parser.add_argument("--fresh-workers", action="store_true", help="a fresh interpreter per submission, no pre-fork server")
    parser.add_argument("--isolation", default="auto")
    parser.add_argument("--require-isolation", action="store_true")
    args = parser.parse_args(argv)
    config = GradingConfig(isolation=args.isolation, require_isolation=args.require_isolation)
    from vizgen.sandbox.prefork import PreforkServer
    from vizgen.sandbox.spawn import spawn_worker

    # the prefork (or the first fresh worker) imports torch while this lane imports it too
    prefork = None if args.fresh_workers else PreforkServer(tuple(args.warm))  # lives as long as this lane
    spawn = spawn_worker if prefork is None else prefork.spawn
    worker = spawn_worker(tuple(args.warm)) if prefork is None else None
    from vizgen.engine import submission as engine  # noqa: F401 - torch and pytest

    from vizgen.course.config import course_paths
    from vizgen.grade import grade_many
    from vizgen.grade.store import notebook_digest
    from vizgen.course.assignment import load_assignment

    paths, tasks, store = course_paths(), {}, ResultStore(args.store)

    def handins():
        for line in iter(sys.stdin.readline, ""):
            job = json.loads(line)
            if job["assignment"] not in tasks:
                tasks[job["assignment"]] = load_assignment(paths, job["assignment"])
            yield Handin(job["student"], Path(job["notebook"]), tasks[job["assignment"]])

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
