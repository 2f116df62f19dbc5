"""The child process that runs student code.

Protocol (bytes over a pipe, encoded by ``wire``): the parent sends ``load`` with the cells to
run; the child answers with the functions it defined. Then each ``call`` names a function, its
arguments (model specs are built here) and gets ``invoke``'s report back. Student output goes
to a scratch log, never to the pipe.
"""

from __future__ import annotations

import importlib
import linecache
import os
import sys
import tempfile
import threading
from pathlib import Path
from multiprocessing.connection import Connection

import torch

from vizgen.config import CoursePaths
from vizgen.grading import sandbox
from vizgen.grading.invoke import run_request
from vizgen.grading.support import load_support
from vizgen.grading.wire import decode, encode


def _load(cells: list, namespace: dict) -> list[str]:
    """Run the definition cells; a failing cell costs only what it defines. Returns the errors."""
    errors = []
    for filename, code in cells:
        linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
        try:
            exec(compile(code, filename, "exec"), namespace)
        except BaseException as error:  # noqa: BLE001 - any failure of student code is reported
            errors.append(f"{filename[1:-1]} failed to load: {type(error).__name__}: {error}")
    return errors


def serve(requests: Connection, replies: Connection) -> None:
    """Child main loop: load the student's cells, then answer calls until the pipe closes."""
    first = decode(requests.recv_bytes())
    settings = first["settings"]
    scratch = tempfile.mkdtemp(prefix="vizgen-student-")
    os.chdir(scratch)
    log_path = os.path.join(scratch, "output.log")
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    sys.stdout = open(1, "w", buffering=1, closefd=False)
    sys.stderr = open(2, "w", buffering=1, closefd=False)
    reader = open(log_path, "r", errors="replace")
    sys.dont_write_bytecode = True
    torch.set_num_threads(settings["threads"])
    os.environ["MPLBACKEND"] = "Agg"
    os.environ["MPLCONFIGDIR"] = scratch
    paths = CoursePaths(Path(settings["root"])) if settings["root"] else None
    namespace: dict = {"__name__": "student"}
    support = load_support(Path(settings["support"]) if settings["support"] else None)  # trusted: before the sandbox
    if settings["cuda"]:  # load CUDA's libraries as trusted code, before the sandbox forbids
        torch.cuda.init()  # loading C libraries: student code may then use the GPU, not dlopen
    sandbox.install(settings["denied"], scratch)
    errors = _load(first["cells"], namespace)
    functions = sorted(k for k, v in namespace.items() if callable(v) and not k.startswith("__"))
    replies.send_bytes(encode({"errors": errors, "functions": functions, "output": reader.read()}))
    while True:
        try:
            request = decode(requests.recv_bytes())
        except EOFError:
            return
        outcome = run_request(namespace[request["function"]], request["probe"], request["args"], request["kwargs"],
                              request["device"], paths, support)
        sys.stdout.flush()
        sys.stderr.flush()
        outcome["output"] = reader.read()[-settings["max_output_chars"] :]
        try:
            replies.send_bytes(encode(outcome))
        except Exception as failure:  # noqa: BLE001 - e.g. a result torch cannot save
            why = (f"the result could not be sent back to the grader ({failure}); return tensors, arrays, numbers, "
                   "strings or lists, tuples and dicts of them")
            replies.send_bytes(encode({"error": {"type": "NotPlainData", "message": why, "where": []}}))


def main() -> None:
    """Entry point: the protocol uses copies of stdin and stdout, freed for student output.

    Modules named on the command line are imported in a background thread while the worker
    waits for the grader (``torch._dynamo``, which the first torch optimizer imports, takes ~1.3 s).
    """
    for module in sys.argv[1:]:
        threading.Thread(target=importlib.import_module, args=(module,), daemon=True).start()
    requests = Connection(os.dup(0), writable=False)
    replies = Connection(os.dup(1), readable=False)
    serve(requests, replies)


if __name__ == "__main__":
    main()
