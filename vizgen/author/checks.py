"""``@check(points, function)``: the marker that makes a pytest test a graded check of one student function."""

from __future__ import annotations

import pytest

MARK = "vizgen_check"


def check(points: float, function: str) -> pytest.MarkDecorator:
    """Mark a test as a graded check of one student function worth ``points``."""
    return getattr(pytest.mark, MARK)(points=points, function=function)
