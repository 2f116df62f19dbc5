"""Public checks: instance normalisation (Ulyanov et al. 2016) and the fast style network (Johnson et al. 2016)."""

import torch
import torch.nn.functional as F

from vizgen.author.expect import fail, expect_close, expect_input_unchanged, expect_module, expect_tensor
from vizgen.author.checks import check

PARAMETERS = 276_675  # TransformerNet() with base_channels=16, num_residual=3


@check(points=1, function="instance_norm")
def test_instance_norm_matches_torch(student):
    """equals F.instance_norm with affine parameters on a (2, 3, 5, 4) batch, input unchanged"""
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, 5, 4, generator=generator) * 3 + 1  # (2, 3, 5, 4)
    weight, bias = torch.randn(3, generator=generator), torch.randn(3, generator=generator)
    call = student.instance_norm(x, weight, bias)
    got = expect_tensor(call.value, "instance_norm(x, weight, bias)")
    expect_close(got, F.instance_norm(x, weight=weight, bias=bias, eps=1e-5), "instance_norm(x, weight, bias)",
                 atol=1e-5, rtol=1e-4, hint="normalise each (n, c) map over (H, W) with the biased variance "
                 "(unbiased=False), eps inside the square root, then * weight[c] + bias[c]")
    expect_input_unchanged(call, "x")


@check(points=1, function="instance_norm")
def test_instance_norm_constant_channel(student):
    """stays finite and matches F.instance_norm on a constant channel, where only eps avoids 0 / 0"""
    x = torch.ones(1, 2, 3, 3)  # (1, 2, 3, 3)
    x[0, 1] = torch.arange(9.0).reshape(3, 3) * 1e-3  # variance ~7e-6, comparable to eps = 1e-5
    weight, bias = torch.tensor([2.0, -1.0]), torch.tensor([0.5, 0.25])
    got = expect_tensor(student.instance_norm(x, weight, bias).value, "instance_norm(x, weight, bias)")
    expect_close(got, F.instance_norm(x, weight=weight, bias=bias, eps=1e-5), "instance_norm(x, weight, bias)",
                 atol=1e-4, rtol=1e-3, hint="divide by sqrt(var + eps), with eps inside the square root "
                 "(not std + eps), so a constant channel gives 0 * weight + bias")


@check(points=1, function="TransformerNet")
def test_transformer_net_shape_and_size(student):
    """keeps an odd-sized input's shape, (2, 3, 33, 29), with 276,675 parameters"""
    summary = student.probe("module_summary", "TransformerNet", input_shape=(2, 3, 33, 29)).value
    expect_module(summary, "TransformerNet()", output_shape=(2, 3, 33, 29), parameters=PARAMETERS)


@check(points=1, function="TransformerNet")
def test_transformer_net_layer_types(student):
    """uses reflection padding and instance norm, no transposed convolution or batch norm"""
    summary = student.probe("module_summary", "TransformerNet").value
    expect_module(summary, "TransformerNet()")
    kinds = {layer.split("(")[0] for layer in summary["layers"]}
    if "ConvTranspose2d" in kinds:
        fail("TransformerNet uses ConvTranspose2d, which draws checkerboard artefacts: upsample with "
             "F.interpolate(mode='nearest') and then a convolution.")
    if kinds & {"BatchNorm2d", "BatchNorm1d"}:
        fail("TransformerNet uses batch norm: use nn.InstanceNorm2d(channels, affine=True).")
    missing = {"ReflectionPad2d", "InstanceNorm2d", "Conv2d", "ReLU"} - kinds
    if missing:
        fail(f"TransformerNet has no {', '.join(sorted(missing))} layer: follow the docstring's layers.")
