"""What runs beside the student's code in the style transfer assignment: nothing of the assignment's own.

The checks need no probe: the descent on the image that judges the content and style losses runs in the
grader (``judge.py``), which asks the student's process for the loss and its gradient with
``student.differentiate`` at every step. The engine's ``count_torch_calls`` counts ``tv_loss``'s
operations; its verdict also reads the CPU time measured outside the student's process.
"""

from __future__ import annotations

from vizgen.author import Support

# How each loss is defined, told to a student whose value matches none of the usual mistakes: the maths, in
# words and symbols (the notebook derives it), never code to paste.
CONTENT_FORMULA = ("content_weight times the sum, over every entry, of the squared difference between the current and "
                   "the original features (Gatys et al. 2016, eq. 1, without its 1/2)")
GRAM_FORMULA = ("for each image, F F^T with F its features as a C x (H W) matrix (one row per channel), divided by "
                "C H W when normalize (Gatys et al. 2015, eq. 2)")
STYLE_FORMULA = ("the sum over the style layers l of style_weights[l] times the sum of squared differences between the "
                 "Gram matrix of the current features at layer style_layers[l] and style_targets[l] "
                 "(Gatys et al. 2016, eq. 5)")
TV_FORMULA = ("tv_weight times the sum, over channels, of the squared differences between vertically adjacent pixels "
              "plus those between horizontally adjacent pixels (Mahendran and Vedaldi 2015, eq. 8 with beta = 2)")

INSTANCE_NORM_FORMULA = ("for each image n and channel c, (x - mean) / sqrt(var + eps) * weight[c] + bias[c], "
                         "where mean and var are the mean and the biased variance (divided by H W) of that (n, c) "
                         "map over its H x W positions (Ulyanov et al. 2016, eq. 2)")

SUPPORT = Support()
