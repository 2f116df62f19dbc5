"""The pretrained ImageNet classifier (EfficientNet-Lite0) that the notebooks and checks load, and
``model_device``."""

from __future__ import annotations

import torch
from torch import nn

from vizgen.assets.fetch import asset_path
from vizgen.assets.sources import CLASSIFIER_WEIGHTS
from vizgen.course.config import CoursePaths
from vizgen.errors import AssetError


def model_device(model: nn.Module) -> torch.device:
    """The device of ``model``'s first parameter; the CPU for a model without parameters."""
    param = next(model.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


def load_classifier(paths: CoursePaths, device: str | torch.device = "cpu") -> nn.Module:
    """EfficientNet-Lite0 (timm ``tf_efficientnet_lite0``) with the packaged ImageNet weights.

    Returned in eval mode with ``requires_grad`` off on every parameter: gradients flow to the
    input only. The weights file lists tensors in timm's state-dict order, so keys are matched
    by position after checking every shape.
    """
    import timm  # deferred: importing timm takes seconds

    weights = torch.load(asset_path(paths, CLASSIFIER_WEIGHTS), map_location="cpu", weights_only=True)
    model = timm.create_model("tf_efficientnet_lite0", pretrained=False)
    expected = model.state_dict()
    if len(weights) != len(expected):
        raise AssetError(
            f"classifier weights hold {len(weights)} tensors, tf_efficientnet_lite0 has {len(expected)}: "
            "check the timm version (pip install -e .) and run `vizgen fetch --only classifier`."
        )
    for (key, want), got in zip(expected.items(), weights.values()):
        if want.shape != got.shape:
            raise AssetError(
                f"classifier weights do not line up at {key}: {tuple(got.shape)} vs {tuple(want.shape)}; "
                "check the timm version (pip install -e .)."
            )
    model.load_state_dict(dict(zip(expected.keys(), weights.values())))
    model.eval().requires_grad_(False)
    return model.to(device)
