"""What runs beside the student's code in the style transfer assignment: one probe that only records.

``style_loss`` takes a list of feature tensors, whose gradients ``student.differentiate`` cannot ask
for (it differentiates with respect to tensor arguments only), so ``list_gradients`` calls the
student's loss on the grader's features and returns its value and d loss / d feats[i], computed by
autograd through the student's own code. It judges nothing: the descent on the image, the tiny
network that makes the features, the true objective and the verdict are the grader's (``judge.py``).
"""

from __future__ import annotations

from typing import Callable

import torch

from vizgen.author import Support


def list_gradients(loss: Callable, feats: list, *args, **kwargs) -> dict:
    """``loss(feats, *args, **kwargs)`` and, when it is a one-element tensor with a gradient graph, its
    gradient with respect to each tensor of ``feats`` that requires grad (zeros where none flows, None for
    the others); else ``gradients`` is None. Plain data: the value detached, the gradients as a list."""
    value = loss(feats, *args, **kwargs)
    if not isinstance(value, torch.Tensor) or value.numel() != 1 or not value.requires_grad:
        return {"value": value.detach() if isinstance(value, torch.Tensor) else value, "gradients": None}
    wanted = [f for f in feats if isinstance(f, torch.Tensor) and f.requires_grad]
    found = iter(torch.autograd.grad(value.sum(), wanted, allow_unused=True))
    gradients = []
    for f in feats:
        if isinstance(f, torch.Tensor) and f.requires_grad:
            g = next(found)
            gradients.append((g if g is not None else torch.zeros_like(f)).detach())
        else:
            gradients.append(None)
    return {"value": value.detach(), "gradients": gradients}


SUPPORT = Support(probes={"list_gradients": list_gradients})
