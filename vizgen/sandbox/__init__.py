"""The sandbox: every process that runs or serves student code, its limits, its walls and its wire.

The process chain, with what crosses each link::

    vizgen grade (grader) ──lines of JSON──> lane (vizgen.grade.lanes, one per --jobs)
        lane ──SCM_RIGHTS fd + "fork"/"pid N"/"exit N CODE" lines──> PreforkServer (prefork; imported torch once)
        PreforkServer ──fork──> worker        or  grader ──spawn_worker (fresh interpreter)──> worker
        grader/lane ──wire: {"settings", "functions"} then one request per call──> worker (WorkerHandle)
            worker: contain.enter ─> process 1 of its own PID namespace, own /proc (a thin shell waits outside)
                    confine ─> Landlock (or uid nobody, or mounts) + audit hooks; answers {"isolation_error"}
        worker ──fork, socketpair; wire request / wire reply──> FunctionProcess (one per graded function)
            FunctionProcess: nested Landlock domain + its own folder, rlimits, seccomp (no new processes),
                             runs only the cells its function reaches, then serves every call of it
        worker ──wire header {"lost", "cpu_seconds"} + the reply bytes──> grader

    nbgrader autograde ──env VIZGEN_SCORES, VIZGEN_ASSIGNMENT──> kernel launcher (vizgen.engine.kernel)
        launcher ──fork──> check server (unconfined: reads hidden checks; records scores)
        launcher ──contain.enter──> confined kernel (process 1 of its PID namespace, seccomp, Landlock)
        test cell ──wire {"check"}──> check server ──wire {"call"}──> kernel ──wire reply──> check server
        check server ──scores.json──> RecordedExecute (vizgen.engine.nbgrader_scores) ──> the test cells

Student code runs only in a FunctionProcess or in the confined kernel; nothing there computes a
correct answer or a verdict (an assignment's ``probes.py`` only records). The message formats:
``wire`` (``torch.save``/``torch.load(weights_only=True)`` of plain data: tensors, arrays, numbers,
strings, containers; reserved tags refused in student data), JSON lines between grader and lanes,
text lines between a lane and its pre-fork server.

Modules: ``spawn`` (a fresh worker; ``WorkerHandle``), ``prefork`` (``PreforkServer``, ``ForkedWorker``),
``worker`` (``ConfinedWorker``, ``FunctionProcess``), ``runners`` (``SandboxRunner``, ``KernelRunner``,
``InProcessRunner``), ``invoke`` (one call and its side-effect report), ``wire``, ``confine`` (kernel
confinement levels, resource limits), ``audit`` (PEP 578 hooks, the secret parts of a course),
``contain`` (PID namespace), ``seccomp`` (no new processes), ``environment`` (the allow-listed env).
"""
