"""Public checks: instance normalisation (Ulyanov et al. 2016) and the fast style network (Johnson et al. 2016).

The instance norm cases are stored (``PUBLIC_CASES``, in ``references.pt``, made by the solution) with the
values of the usual mistakes on the same inputs, so that a wrong value is named only by a mistake it reproduces."""

import torch

from vizgen.author import (ReferenceCase, assignment_probes, check, expect_case, expect_input_unchanged, expect_module,
                           fail)

probes = assignment_probes(__file__)

PARAMETERS = 276_675  # TransformerNet() with base_channels=16, num_residual=3


def _instance_norm_inputs():
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, 5, 4, generator=generator) * 3 + 1  # (2, 3, 5, 4): 20 positions per map
    weight, bias = torch.randn(3, generator=generator), torch.randn(3, generator=generator)  # (3,) each
    return [x, weight, bias], {}


def _instance_norm_constant_inputs():
    x = torch.ones(1, 2, 3, 3)  # (1, 2, 3, 3)
    x[0, 1] = torch.arange(9.0).reshape(3, 3) * 1e-3  # variance ~7e-6, comparable to eps = 1e-5
    return [x, torch.tensor([2.0, -1.0]), torch.tensor([0.5, 0.25])], {}


PUBLIC_CASES = [
    ReferenceCase("instance-norm-batch", "instance_norm", _instance_norm_inputs, atol=1e-5, rtol=1e-4,
                  why="float32 means and variances of 20 values ~3, then one division: ~1e-6 relative.",
                  mistakes="instance_norm_mistakes"),
    ReferenceCase("instance-norm-constant", "instance_norm", _instance_norm_constant_inputs, atol=1e-4, rtol=1e-3,
                  why="a channel whose variance (~7e-6) is the size of eps: float32 rounding of the variance "
                      "changes the output by ~1e-5.", mistakes="instance_norm_mistakes"),
]


@check(points=2, function="instance_norm")
def test_instance_norm_by_case(student, reference):
    """normalises each (n, c) map of a (2, 3, 5, 4) batch with the biased variance, input unchanged"""
    case = reference.case("instance-norm-batch")
    call = student.instance_norm(*case.args)
    expect_case(call.value, case, "instance_norm(x, weight, bias)", probes.INSTANCE_NORM_FORMULA)
    expect_input_unchanged(call, "x")


@check(points=1, function="instance_norm")
def test_instance_norm_constant_channel(student, reference):
    """stays finite on a constant channel, where only eps avoids 0 / 0, and on one whose variance is eps's size"""
    case = reference.case("instance-norm-constant")
    expect_case(student.instance_norm(*case.args).value, case, "instance_norm(x, weight, bias) on a constant channel",
                probes.INSTANCE_NORM_FORMULA)


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
        fail(f"TransformerNet has no {', '.join(sorted(missing))} layer: follow the table of layers in the notebook.")
