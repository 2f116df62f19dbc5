"""VizGen: course helpers for visualizing CNNs and generative models.

Import submodules explicitly (``vizgen.library.data``, ``vizgen.library.models``, ``vizgen.grading``); importing
the package itself does no work.
"""

__version__ = "0.1.0"
