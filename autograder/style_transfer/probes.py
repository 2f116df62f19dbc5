"""What runs beside the student's code in the style transfer assignment: nothing of the assignment's own.

The checks need no probe: the descent on the image that judges the content and style losses runs in the
grader (``judge.py``), which asks the student's process for the loss and its gradient with
``student.differentiate`` at every step. The engine's ``count_torch_calls`` counts ``tv_loss``'s
operations; its verdict also reads the CPU time measured outside the student's process.
"""

from __future__ import annotations

from vizgen.author import Support

SUPPORT = Support()
