"""The process boundary carries plain data only, and keeps dtype, device and requires_grad."""

import io

import numpy as np
import pytest
import torch

from vizgen.sandbox.wire import NotPlainData, decode, encode, plain
from vizgen.author.models import ModelSpec


def test_round_trip_keeps_types_and_flags():
    value = {
        "t": torch.arange(6, dtype=torch.int16).view(2, 3),
        "g": torch.ones(2).requires_grad_(),
        "a": np.array([[True, False]]),
        "tuple": (1, 2.5, "s", None),
        "list": [ModelSpec("tiny_cnn", seed=3)],
    }
    back = decode(encode(value))
    assert back["t"].dtype == torch.int16 and torch.equal(back["t"], value["t"])
    assert back["g"].requires_grad and not back["t"].requires_grad
    assert isinstance(back["a"], np.ndarray) and back["a"].dtype == bool and back["a"].tolist() == [[True, False]]
    assert back["tuple"] == (1, 2.5, "s", None)
    assert back["list"] == [ModelSpec("tiny_cnn", seed=3)]


class Sneaky(torch.Tensor):
    def __eq__(self, other):  # a result that claims to equal anything
        return True


@pytest.mark.parametrize(
    "value, words",
    [
        (object(), "object"),
        (Sneaky(torch.zeros(2)), "tensor subclass"),
        (np.array([object()]), "Python objects"),
        ({1: 2}, "dict"),
    ],
)
def test_refuses_non_plain_values(value, words):
    with pytest.raises(NotPlainData, match=words):
        plain(value)


def test_decode_refuses_pickled_objects():
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    buffer = io.BytesIO()
    torch.save({"x": Evil()}, buffer)
    with pytest.raises(Exception, match="[Ww]eights only load failed|Unsupported"):
        decode(buffer.getvalue())
