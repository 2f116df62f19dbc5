"""The course: its layout and settings, its notebooks, and the contract they keep.

``config`` (``CoursePaths``, ``GradingConfig``, finding the course root), ``assignment`` (an
assignment's ``assignment.toml`` and folders; names only from ``available``), ``notebook`` (reading a
notebook whatever it holds; extracting the definitions grading runs, per function), ``manifest``
(the hidden checks' titles and points, told to students) and ``contract`` (what a source notebook and
its checks must agree on). Every other room reads the course through these.
"""
