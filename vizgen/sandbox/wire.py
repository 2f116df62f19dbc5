"""Plain data across the process boundary: tensors, arrays, numbers, strings and containers.

Tensors keep their dtype, device and ``requires_grad``. Encoding uses ``torch.save``; decoding uses
``torch.load(weights_only=True)``, which refuses to build arbitrary objects, so nothing made by
student code is ever unpickled by the grader.
NumPy arrays and model specs travel as tagged dicts.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import torch

from vizgen.author.models import ModelSpec

_ARRAY = "__ndarray__"
_MODEL = "__model__"
_TUPLE = "__tuple__"
_GRAD = "__requires_grad__"
RESERVED = (_ARRAY, _MODEL, _TUPLE, _GRAD)  # dict keys that tag values on the wire: refused in data


class NotPlainData(TypeError):
    """A value that cannot cross to the grader (not a tensor, array, number, string or container)."""


def plain(value: Any, where: str = "the result") -> Any:
    """Check and normalise a value into plain data; raises NotPlainData naming what was found."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if isinstance(value, torch.Tensor):
        if type(value) not in (torch.Tensor, torch.nn.Parameter):
            raise NotPlainData(f"{where} is a {type(value).__name__} (a tensor subclass); return a plain torch.Tensor")
        data = value.detach() if type(value) is torch.Tensor else value.data
        if data.untyped_storage().nbytes() > data.numel() * data.element_size():
            data = data.clone()  # a view: torch.save would write its whole storage, not just the view
        return data.requires_grad_(value.requires_grad) if data.is_floating_point() else data
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            raise NotPlainData(f"{where} is a NumPy array of Python objects; return numbers")
        return value
    if isinstance(value, ModelSpec):
        return value
    if isinstance(value, (list, tuple)):
        items = [plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if isinstance(value, tuple) else items
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        reserved = sorted(set(value) & set(RESERVED))
        if reserved:
            raise NotPlainData(f"{where} has the key {reserved[0]!r}, which grading reserves: rename that key")
        return {k: plain(v, f"{where}[{k!r}]") for k, v in value.items()}
    raise NotPlainData(f"{where} is a {type(value).__module__}.{type(value).__name__}; return a tensor or array")


def _tag(value: Any) -> Any:
    if isinstance(value, torch.Tensor) and value.requires_grad:
        return {_GRAD: value.detach()}
    if isinstance(value, np.ndarray):
        return {_ARRAY: torch.from_numpy(np.ascontiguousarray(value))}
    if isinstance(value, ModelSpec):
        return {_MODEL: value.to_dict()}
    if isinstance(value, tuple):
        return {_TUPLE: [_tag(v) for v in value]}
    if isinstance(value, list):
        return [_tag(v) for v in value]
    if isinstance(value, dict):
        return {k: _tag(v) for k, v in value.items()}
    return value


def _untag(value: Any) -> Any:
    if isinstance(value, dict):
        if _ARRAY in value:
            return value[_ARRAY].numpy()
        if _GRAD in value:
            return value[_GRAD].requires_grad_()
        if _MODEL in value:
            return ModelSpec(**value[_MODEL])
        if _TUPLE in value:
            return tuple(_untag(v) for v in value[_TUPLE])
        return {k: _untag(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_untag(v) for v in value]
    return value


def encode(value: Any) -> bytes:
    buffer = io.BytesIO()
    torch.save(_tag(plain(value, "the message")), buffer)
    return buffer.getvalue()


def decode(data: bytes) -> Any:
    return _untag(torch.load(io.BytesIO(data), weights_only=True))
