"""The `vizgen` command: fetch, check, grade, collect, gradescope, nbgrader, release, references, manifest, samples,
models. Verbs live in their own modules."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vizgen.errors import VizgenError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vizgen", description="VizGen course tools.")
    verbs = parser.add_subparsers(dest="verb", required=True)

    fetch = verbs.add_parser("fetch", help="gather the offline assets into datasets/, verified by checksum")
    fetch.add_argument("--only", nargs="*", metavar="SOURCE", help="only these sources (default: all)")

    check = verbs.add_parser("check", help="self-check a notebook with the public checks")
    check.add_argument("notebook", type=Path)
    check.add_argument("--assignment", help="the assignment (default: from the notebook)")

    grade = verbs.add_parser("grade", help="grade submissions (public checks; --hidden adds the hidden ones)")
    grade.add_argument("notebooks", type=Path, nargs="*", metavar="NOTEBOOK_OR_FOLDER",
                       help="submitted notebooks, or nbgrader's submitted/ folder (<student>/<assignment>/*.ipynb)")
    grade.add_argument("--assignment", help="the assignment (default: from each notebook)")
    grade.add_argument("--hidden", action="store_true", help="also run the hidden checks")
    grade.add_argument("--jobs", type=int, default=1, help="grading lanes (processes) in parallel; one per core")
    grade.add_argument("--out", type=Path, help="keep each student's results.json here (a rerun skips finished "
                       "students), with grades.csv and the instructor's report.html")
    grade.add_argument("--force", action="store_true", help="regrade students already finished in --out")
    grade.add_argument("--shard", metavar="I/N", help="grade only the I-th of N parts of the class (by a hash of "
                       "student and assignment), e.g. one job of a Slurm array; needs --out; join with --merge")
    grade.add_argument("--merge", type=Path, nargs="+", metavar="SHARD_OUT",
                       help="join the --out folders of every --shard I/N run into --out (no grading)")
    grade.add_argument("--fresh-workers", action="store_true", help="a fresh interpreter per submission instead of "
                       "workers forked from a warm pre-fork server (slower; a single submission always gets one)")
    grade.add_argument("--json", type=Path, help="Gradescope results.json (a folder when grading several)")
    grade.add_argument("--csv", type=Path, help="one row per submission")
    grade.add_argument("--require-isolation", action="store_true",
                       help="refuse to grade unless the kernel confines student code (Landlock, uid drop, namespace)")
    grade.add_argument("--isolation", default="auto", choices=["auto", "landlock", "unprivileged-uid", "namespace",
                                                              "audit-hooks"],
                       help="the confinement level (default: the strongest this machine offers)")
    grade.add_argument("--gradebook", type=Path, help="write the scores into this nbgrader gradebook.db "
                       "(after `nbgrader generate_assignment`), for formgrader and `nbgrader export`")

    collect = verbs.add_parser("collect", help="lay a learning platform's bulk download (a zip, one notebook per "
                               "student) into nbgrader's submitted/<student>/<assignment>/")
    collect.add_argument("download", type=Path, help="the platform's zip")
    collect.add_argument("--assignment", required=True)
    collect.add_argument("--into", type=Path, default=Path("submitted"), help="default: submitted/ here")
    collect.add_argument("--force", action="store_true", help="replace notebooks already collected that differ")

    release = verbs.add_parser("release", help="nbgrader generate_assignment, then an audited student bundle")
    release.add_argument("--assignment", action="append", help="only this assignment (repeatable)")
    release.add_argument("--bundle", type=Path, help="write the student bundle to this zip")

    gradescope = verbs.add_parser("gradescope",
                                  help="the assignment as a Gradescope autograder zip (hidden checks inside)")
    gradescope.add_argument("assignment")
    gradescope.add_argument("-o", "--out", type=Path, default=Path("autograder.zip"), help="the zip to write")

    nbg = verbs.add_parser("nbgrader", help="nbgrader from the course root with this environment on PATH "
                           "(a failed generate_assignment keeps the released notebooks)")
    nbg.add_argument("args", nargs=argparse.REMAINDER, help="nbgrader's own arguments, e.g. autograde ASSIGNMENT")

    refs = verbs.add_parser("references", help="reference outputs from the solution notebooks")
    refs.add_argument("action", choices=["build", "verify", "parity"])
    refs.add_argument("--assignment", action="append", help="only this assignment (repeatable)")
    refs.add_argument("--device", default="cpu", choices=["cpu", "cuda"])

    manifest = verbs.add_parser("manifest",
                                help="write public/hidden_checks.json from hidden/ (what students are told)")
    manifest.add_argument("--assignment", action="append", help="only this assignment (repeatable)")
    verbs.add_parser("samples", help="list the demo notebooks: each assignment's solution, release and samples")
    models = verbs.add_parser("models", help="train the course's own models")
    models.add_argument("action", choices=["train-mnist"],
                        help="train-mnist: the MNIST classifier behind the GAN quality measure")
    models.add_argument("--epochs", type=int, default=4)
    models.add_argument("--seed", type=int, default=0)
    models.add_argument("--out", type=Path,
                        help="where to save (default: the shipped vizgen/weights/mnist_classifier.pt)")
    return parser


def _models(args) -> int:
    from vizgen.course.config import course_paths
    from vizgen.library.mnist import train_and_save

    train_and_save(course_paths(), args.out, epochs=args.epochs, seed=args.seed)
    return 0


def _fetch(args) -> int:
    from vizgen.assets import fetch
    from vizgen.course.config import course_paths

    fetch(course_paths(), args.only)
    return 0


def _check(args) -> int:
    from vizgen.course.config import course_paths
    from vizgen.course.assignment import resolve_assignment
    from vizgen.course.notebook import read_notebook
    from vizgen.sandbox.spawn import spawn_worker

    read_notebook(args.notebook)  # a missing file or a non-notebook is a usage error, reported as such
    task = resolve_assignment(course_paths(args.notebook.resolve().parent), args.notebook, args.assignment)
    worker = spawn_worker(task.warm_imports)  # before torch is imported here: the two imports overlap
    from vizgen.check import check_notebook, hidden_summary, save_figures
    from vizgen.engine.results import format_checks

    report = check_notebook(args.notebook, task, worker=worker)
    figures = save_figures(report, args.notebook.resolve().parent / f"{args.notebook.stem}-check-figures")
    print(format_checks(report, figures))
    for note in report.notes:
        print(f"note: {note}")
    passed = sum(c.passed for c in report.checks)
    print(f"{passed}/{len(report.checks)} public checks passed ({report.score:g}/{report.max_score:g} points).")
    print(hidden_summary(task))
    return 0 if passed == len(report.checks) else 1


def _grade(args) -> int:
    from vizgen.course.config import GradingConfig, course_paths
    from vizgen.grade import grade
    from vizgen.sandbox import confine
    from vizgen.engine.results import failure_lines, format_table
    from vizgen.grade.shard import parse_shard

    if args.merge:
        if args.notebooks or args.out is None:
            raise VizgenError("--merge takes the shards' --out folders and an --out of its own, no notebooks: "
                              "vizgen grade --merge graded-1 graded-2 ... --out graded")
        from vizgen.grade import merge_shards

        batch = merge_shards(args.merge, args.out, args.json, args.csv, args.gradebook)
        print(format_table(batch.reports))
        for output in batch.outputs:
            print(f"wrote {output}")
        return 0
    if not args.notebooks:
        raise VizgenError("give the notebooks or nbgrader's submitted/ folder to grade (or --merge SHARD_OUT ...).")
    if args.jobs < 1:
        raise VizgenError(f"--jobs {args.jobs}: give 1 or more lanes (one per core is fastest).")
    protection = confine.plan(args.isolation)
    if args.require_isolation and not protection.kernel:
        raise VizgenError(f"refusing to grade without kernel confinement: {protection.describe()}. Grade on a Linux "
                          "machine with Landlock (>= 5.13), or as root so the worker can drop to another uid.")
    print(protection.describe())
    config = GradingConfig(isolation=protection.level, require_isolation=args.require_isolation)
    batch = grade(course_paths(), args.notebooks, args.assignment, args.hidden, args.jobs, args.out, args.force,
                  args.json, args.csv, args.gradebook, config=config, fresh_workers=args.fresh_workers,
                  shard=parse_shard(args.shard) if args.shard else None)
    for report in batch.reports:
        for note in report.notes:
            print(f"{report.submission}: note: {note}")
        for line in failure_lines(report):
            print(f"{report.submission}: {line}")
    print(format_table(batch.reports))
    if batch.reused:
        print(f"{batch.reused} already graded in {args.out} (same notebook, same checks): kept; --force regrades them.")
    for output in batch.outputs:
        print(f"wrote {output}")
    return 0


def _release(args) -> int:
    from vizgen.course.config import course_paths
    from vizgen.release import release

    release(course_paths(), args.assignment, args.bundle)
    return 0


def _manifest(args) -> int:
    from vizgen.course.config import course_paths
    from vizgen.course.assignment import available, load_assignment
    from vizgen.course.manifest import write_manifest

    paths = course_paths()
    for name in args.assignment or available(paths):
        print(f"wrote {write_manifest(load_assignment(paths, name)).relative_to(paths.root)}")
    return 0


def _samples(args) -> int:
    from vizgen.course.config import course_paths
    from vizgen.course.assignment import demo_notebooks

    paths = course_paths()
    print("\n".join(str(p.relative_to(paths.root)) for p in demo_notebooks(paths)))
    return 0
def _collect(args) -> int:
    from vizgen.collect import collect
    from vizgen.course.assignment import load_assignment
    from vizgen.course.config import course_paths

    done = collect(args.download, load_assignment(course_paths(), args.assignment), args.into, args.force)
    print(f"collected {len(done.placed)} notebooks into {args.into}/<student>/{args.assignment}/"
          + (f"; {len(done.unchanged)} already there" if done.unchanged else ""))
    for refused in done.refused:
        print(f"could not place {refused}", file=sys.stderr)
    return 1 if done.refused else 0


def _gradescope(args) -> int:
    from vizgen.course.config import course_paths
    from vizgen.gradescope import build

    build(course_paths(), args.assignment, args.out)
    return 0


def _nbgrader(args) -> int:
    from vizgen.course.config import course_paths
    from vizgen.release import nbgrader

    return nbgrader(course_paths(), args.args)


def _references(args) -> int:
    from vizgen import references
    from vizgen.course.config import course_paths
    from vizgen.course.assignment import available, load_assignment

    paths = course_paths()
    problems = []
    for name in args.assignment or available(paths):
        task = load_assignment(paths, name)
        if args.action == "build":
            for file in references.build(task, args.device):
                print(f"wrote {file.relative_to(paths.root)}")
        elif args.action == "verify":
            problems += [f"{name}: {p}" for p in references.verify(task, args.device)]
        else:
            problems += [f"{name}: {p}" for p in references.parity(task)]
    for problem in problems:
        print(problem)
    if problems and args.action == "verify":
        print("references are stale: run `vizgen references build`.")
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handler = {
        "fetch": _fetch, "check": _check, "grade": _grade, "release": _release, "references": _references,
        "gradescope": _gradescope, "nbgrader": _nbgrader, "collect": _collect, "models": _models, "manifest": _manifest,
        "samples": _samples,
    }
    try:
        return handler[args.verb](args)
    except VizgenError as error:
        print(f"vizgen {args.verb}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
