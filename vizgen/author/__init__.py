"""The check authors' API: the only package an assignment's checks, probes and judge import.

A check is a pytest function marked ``@check(points, function)`` in ``autograder/<a>/public/`` or
``hidden/``; it calls ``student.<function>(...)`` (a ``Call``), ``student.probe(name, function, ...)``
or ``student.differentiate(function, ..., wrt=...)``, reads stored cases with ``reference.case(name)``
(``ReferenceCase`` declares them) and fails only through ``fail`` and the ``expect_*`` helpers, whose
messages name what to fix; ``expect_match`` / ``expect_case`` name the usual mistake a wrong value
reproduces (with a ``Figure`` of an image-valued output); ``expect_pixels_from`` / ``expect_periodic`` judge properties
of a picture; ``expect_distribution`` / ``expect_categorical`` judge a random function by the law of
many draws. ``Support`` registers an assignment's probes and small models (``ModelSpec``) in its
``probes.py``; ``assignment_probes`` and ``assignment_judge`` reach its two modules; ``Mistake`` and
``Alternative`` make its table of mistakes. Nothing here imports the sandbox or the engine.
"""

from vizgen.author.call import Call
from vizgen.author.cases import ReferenceCase, StoredCase
from vizgen.author.checks import check
from vizgen.author.distribution import FALSE_FAILURE, expect_categorical, expect_distribution
from vizgen.author.expect import (effects_of, expect_array, expect_classified_as, expect_clean_model, expect_close,
                                  expect_device, expect_dtype, expect_finite, expect_gradients,
                                  expect_hooks_removed_on_error, expect_input_unchanged, expect_iou, expect_loss,
                                  expect_module, expect_shape, expect_tensor, fail)
from vizgen.author.inputs import photo, photo_batch, random_images
from vizgen.author.matching import expect_case, expect_match, reproduced_mistake, reproduces
from vizgen.author.messages import CheckFailure, Figure, StudentCodeError
from vizgen.author.models import ModelSpec
from vizgen.author.support import Support, assignment_judge, assignment_probes
from vizgen.author.tables import Alternative, Forgery, Mistake, wrong_answer

__all__ = [
    "FALSE_FAILURE", "expect_categorical", "expect_distribution",
    "Alternative", "Call", "Forgery", "CheckFailure", "Figure", "Mistake", "ModelSpec", "ReferenceCase", "StoredCase",
    "StudentCodeError", "Support", "assignment_judge", "assignment_probes", "check", "effects_of", "expect_array",
    "expect_case", "expect_classified_as", "expect_clean_model", "expect_close", "expect_device", "expect_dtype",
    "expect_finite", "expect_gradients", "expect_hooks_removed_on_error", "expect_input_unchanged", "expect_iou",
    "expect_loss", "expect_match", "expect_module", "expect_shape", "expect_tensor", "fail", "photo", "photo_batch",
    "random_images",
    "reproduced_mistake", "reproduces", "wrong_answer",
]
