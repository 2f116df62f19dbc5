"""VizGen: assignments on visualizing CNNs and generative models, and their grader.

The packages, by who works there (lowest first; imports run one way, ``tests/structure``):

- ``course``: the layout, settings, notebooks and contract every other room reads;
- ``assets``: the offline assets (``vizgen fetch``);
- ``library`` and ``topics``: the students' course library, what the notebooks import;
- ``author``: the check authors' API, the only package an assignment's checks, probes and judge use;
- ``sandbox``: every process that runs student code, its walls and its wire (the process chain is
  drawn in its docstring);
- ``engine``: grading one submission; nbgrader's confined kernel and its check server;
- the instructors' verbs, one package each: ``check``, ``grade``, ``release``, ``references``,
  ``gradescope``; and ``cli``, which only parses and calls them.

Import submodules explicitly (``vizgen.library.data``, ``vizgen.topics.style``); importing the package
itself does no work.
"""

__version__ = "0.1.0"
