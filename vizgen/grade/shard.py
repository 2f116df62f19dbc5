"""A class too large for one machine: ``vizgen grade --shard I/N`` on N machines, then ``--merge``.

A hand-in's shard comes from a hash of its student id and assignment, never from its position: it lands in
the same shard whatever else the folder holds, so N jobs of an existing scheduler (a Slurm array, N
Gradescope-like workers) grading the same ``submitted/`` with I = 1..N grade each hand-in exactly once.
Each shard's ``--out`` keeps ``shard.json``: its I and N, whether hidden checks ran, and the hand-ins it
was given. ``--merge`` reads those files and the shards' result stores; it refuses shards of different N
or checks, a shard given twice, a missing shard or a hand-in two shards graded, names every student whose
result is missing, and writes one store, CSV, report and gradebook, as one run over the class would.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from vizgen.engine.results import GradeReport
from vizgen.errors import VizgenError
from vizgen.grade.discover import Handin
from vizgen.grade.store import ResultStore, from_record, write_atomic

SHARD_FILE = "shard.json"


def parse_shard(text: str) -> tuple[int, int]:
    """``"I/N"`` -> (I, N), with 1 <= I <= N."""
    found = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not found or not 1 <= int(found.group(1)) <= int(found.group(2)):
        raise VizgenError(f"--shard {text!r}: give I/N with 1 <= I <= N, e.g. --shard 2/8 (a Slurm array job passes "
                          "--shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT with --array=1-N).")
    return int(found.group(1)), int(found.group(2))


def shard_of(student: str, assignment: str, count: int) -> int:
    """The shard (1..count) of a student's hand-in for an assignment: a hash of both, so stable across runs."""
    digest = hashlib.sha256(f"{student}\0{assignment}".encode()).hexdigest()
    return 1 + int(digest[:16], 16) % count


def select(handins: list[Handin], index: int, count: int) -> list[Handin]:
    """The hand-ins of shard ``index`` of ``count``."""
    return [h for h in handins if shard_of(h.student, h.assignment.name, count) == index]


def write_plan(out: Path, index: int, count: int, hidden: bool, handins: list[Handin]) -> Path:
    """``out/shard.json``: which shard this is and what it was given to grade."""
    plan = {"shard": index, "of": count, "hidden": hidden,
            "handins": [[h.student, h.assignment.name] for h in handins]}
    write_atomic(out / SHARD_FILE, json.dumps(plan, indent=1) + "\n")
    return out / SHARD_FILE


def _plan(folder: Path) -> dict:
    try:
        plan = json.loads((folder / SHARD_FILE).read_text())
        return {"shard": int(plan["shard"]), "of": int(plan["of"]), "hidden": bool(plan["hidden"]),
                "handins": [tuple(h) for h in plan["handins"]]}
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise VizgenError(f"{folder} is not the --out of a `vizgen grade --shard I/N` run (its {SHARD_FILE} is "
                          f"missing or unreadable: {type(error).__name__}): merge only the shards' --out folders."
                          ) from error


def merge(folders: list[Path]) -> tuple[list[GradeReport], dict[tuple[str, str], dict]]:
    """The reports of every shard (by student, then assignment) and their stored records, after checking that
    the shards are one whole class: same N and checks, each shard once, none missing, no hand-in twice."""
    plans = [(folder, _plan(folder)) for folder in folders]  # a folder given twice is a shard given twice
    counts = {p["of"] for _, p in plans}
    if len(counts) > 1:
        raise VizgenError(f"the shards split the class differently (N = {sorted(counts)}): merge the shards of one "
                          "--shard I/N run.")
    if len({p["hidden"] for _, p in plans}) > 1:
        raise VizgenError("some shards ran the hidden checks and some did not: grade every shard with the same "
                          "options (--hidden), then merge.")
    count = counts.pop()
    given = sorted(p["shard"] for _, p in plans)
    twice = sorted({i for i in given if given.count(i) > 1})
    if twice:
        raise VizgenError(f"shard {twice[0]}/{count} is given twice: merge each shard's --out once.")
    absent = [i for i in range(1, count + 1) if i not in given]
    if absent:
        raise VizgenError(f"shard(s) {', '.join(f'{i}/{count}' for i in absent)} missing: grade them "
                          f"(`vizgen grade ... --shard I/{count} --out ...`) and merge all {count}.")
    owner: dict[tuple[str, str], Path] = {}
    records: dict[tuple[str, str], dict] = {}
    missing = []
    for folder, plan in plans:
        store = ResultStore(folder)
        for key in plan["handins"]:
            if key in owner:
                raise VizgenError(f"{key[0]}'s {key[1]} was graded by two shards ({owner[key]} and {folder}): the "
                                  "shards were not cut from the same class; grade them again from one submitted/.")
            owner[key] = folder
            record = store.load(*key)
            if record is None:
                missing.append(f"{key[0]} ({key[1]}, shard {plan['shard']}/{count})")
            else:
                records[key] = record
    if missing:
        raise VizgenError(f"{len(missing)} graded result(s) missing: {', '.join(missing[:10])}"
                          f"{'...' if len(missing) > 10 else ''}: rerun those shards (finished students are kept).")
    keys = sorted(records)
    return [from_record(records[k]) for k in keys], {k: records[k] for k in keys}


def write_records(out: Path, records: dict[tuple[str, str], dict]) -> None:
    """The merged store: each student's stored result, as the shard wrote it."""
    store = ResultStore(out)
    for (student, assignment), record in records.items():
        write_atomic(store.path(student, assignment), json.dumps(record, indent=2) + "\n")
