"""The grading engine: read student functions from a notebook, run them in isolation, check them.

Stages: ``extract`` (notebook -> student source), ``runner`` (a child process or the notebook's
own namespace runs the functions; ``wire`` carries plain tensors back), ``plugin`` (pytest
checks receive the student's functions), ``engine`` (one submission -> ``results``). An assignment
adds its own probes, models and inputs through ``support``; ``assignment`` reads its settings.
"""
