"""The engine: grading one submission, and nbgrader's confined kernel.

``submission`` (``grade_submission``: extract, start the sandbox, run the checks; ``run_checks``;
``failed_report`` for a hand-in that cannot be graded), ``suite`` (an assignment's
``@check`` functions read once and run for each submission with the ``student`` and ``reference``
fixtures), ``stores``
(stored reference cases, public and hidden), ``results`` (``CheckResult``, ``GradeReport`` and their
forms: Gradescope JSON, CSV, text), ``kernel`` (the confined kernel and its check server) and
``nbgrader_scores`` (nbgrader's execute step, scored by the check server's records).
"""
