"""VizGen: course helpers for visualizing CNNs and generative models.

Import submodules explicitly (``vizgen.data``, ``vizgen.models``, ``vizgen.grading``); importing
the package itself does no work.
"""

__version__ = "0.1.0"
