"""The one matcher: a cause is named only when the wrong value reproduces that mistake's value."""

import pytest
import torch

from vizgen.author import CheckFailure, expect_match

CORRECT = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
MISTAKES = {"summed instead of averaged: divide by N": CORRECT * 4,
            "a constant row gives 0 / 0: return 0 there": torch.tensor([[1.0, float("nan")], [3.0, 4.0]])}


def _message(value) -> str:
    with pytest.raises(CheckFailure) as failed:
        expect_match(value, CORRECT, MISTAKES, "the map", "x / N")
    return str(failed.value)


def test_the_correct_value_passes():
    expect_match(CORRECT + 1e-8, CORRECT, MISTAKES, "the map", "x / N")


@pytest.mark.parametrize("name", MISTAKES)
def test_a_reproduced_mistake_is_named(name):
    assert _message(MISTAKES[name].clone()) == f"the map is wrong: likely bug: {name}."


@pytest.mark.parametrize("wrong", [CORRECT * 1.37, CORRECT * 4 + 0.01, torch.tensor([[1.0, float("nan")], [3.0, 5.0]])])
def test_a_value_no_mistake_reproduces_is_not_given_a_cause(wrong):
    said = _message(wrong)
    assert "likely bug" not in said and ("differs from the expected" in said or "NaN" in said)
    assert "x / N" in said  # what to compute instead


def test_a_wrong_shape_says_the_shapes():
    assert "has shape (4,); expected (2, 2)" in _message(CORRECT.flatten())
