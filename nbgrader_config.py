"""nbgrader configuration: sources are the solution notebooks, releases are the student notebooks.

`nbgrader generate_assignment network_visualization` (run from this folder, or `vizgen release`)
reads solutions/<assignment>/ and writes assignments/<assignment>/.
"""

import os
import sys

# nbgrader runs `alembic` (the gradebook's migrations) by name: find it next to the Python running
# nbgrader, so `.venv/bin/nbgrader ...` works from a shell where the environment is not activated.
os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "vizgen"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "assignments"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"

# Student notebooks are released without outputs; checks and solutions are stripped as usual.
c.ClearOutput.enabled = True
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# Autograding runs the notebook; heavy figure cells skip themselves under NBGRADER_EXECUTION.
c.ExecutePreprocessor.timeout = 300

# Autograding runs each notebook in a kernel confined by the kernel (vizgen.engine.kernel): the
# student's cells cannot read hidden checks, references or solutions; the check server beside the
# kernel runs the checks. `make install` (or `python -m vizgen.engine.kernel --install`) installs it.
c.Execute.kernel_name = "vizgen-confined"

# Each test cell is scored by what the check server recorded, not by what the kernel printed: a
# student's cell that replaces the checker cannot raise a score (vizgen.engine.nbgrader_scores).
from nbconvert.preprocessors import ClearMetadataPreprocessor  # noqa: E402
from nbgrader.preprocessors import AssignLatePenalties, CheckCellMetadata, IgnorePattern, LimitOutput, SaveAutoGrades  # noqa: E402

from vizgen.engine.nbgrader_scores import RecordedExecute  # noqa: E402

c.Autograde.autograde_preprocessors = [RecordedExecute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
                                       SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]
