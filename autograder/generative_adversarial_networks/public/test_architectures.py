"""Public checks: the four networks, by output shape and parameter count, and by the order of their layers
(and the activation slopes the notebook asks for).

The probe ``module_layers`` reports each network's layers (type and settings) and its output on a batch
with parameters drawn from a seed; the check rebuilds that chain of layers here, with the same parameters,
and judges the rebuilt network, once it reproduces the reported output.
"""

import torch

from vizgen.author import assignment_probes, check, expect_module, fail
from vizgen.author.expect import output_figure
from vizgen.author.probes import describe_layer

gan = assignment_probes(__file__)  # autograder/generative_adversarial_networks/probes.py

SEED = 5  # the parameters the probe and the rebuilt chain draw


def _batch(*shape: int) -> torch.Tensor:
    return torch.rand(*shape, generator=torch.Generator().manual_seed(6)) * 2 - 1


def network(student, function: str, *args, x: torch.Tensor, name: str) -> dict:
    """The layers, parameter count and output shape of the network ``function(*args)`` builds, read from the
    chain rebuilt from the probe's report; fails when that chain does not give the network's output on ``x``."""
    record = student.probe("module_layers", function, *args, seed=SEED, x=x).value
    if not record["is_module"]:
        return {"is_module": False, "type": record["type"]}
    if record["outside"]:
        fail(f"{name} holds {record['outside']:,} parameter values outside its layers: build it as an "
             "nn.Sequential of the notebook's layers, one module per layer.")
    chain = gan.rebuild_chain(record, SEED)
    if isinstance(chain, str):
        fail(f"{name}'s {chain}: build it from the layers the notebook names, one module per layer.")
    output, error = None, ""
    try:
        with torch.no_grad():
            output = chain(x)
    except Exception as exc:  # noqa: BLE001 - a wrong architecture fails here; report why
        error = f"{type(exc).__name__}: {exc}"[:300]
    got = record["output"]
    same = (output is None and got is None) or (
        isinstance(output, torch.Tensor) and isinstance(got, torch.Tensor) and output.shape == got.shape
        and torch.allclose(got.double(), output.double(), atol=1e-5, rtol=1e-4))
    if not same:
        fail(f"{name}'s output is not what its layers compute one after the other: return an nn.Sequential of "
             "the notebook's layers, one module per layer, with no forward of your own.")
    return {"is_module": True, "type": record["type"], "layers": [describe_layer(m) for m in chain],
            "parameters": sum(p.numel() for p in chain.parameters()),
            "output_shape": tuple(output.shape) if output is not None else (), "output_error": error,
            "output": output}


@check(points=1, function="discriminator")
def test_discriminator_shape_and_size(student):
    """maps (N, 784) images to (N, 1) logits with 267,009 parameters"""
    summary = network(student, "discriminator", x=_batch(5, 784), name="discriminator()")
    expect_module(summary, "discriminator()", output_shape=(5, 1), parameters=267_009)


@check(points=1, function="generator")
def test_generator_shape_and_size(student):
    """maps (N, 96) noise to (N, 784) images with 1,952,528 parameters"""
    summary = network(student, "generator", 96, x=_batch(5, 96), name="generator(96)")
    expect_module(summary, "generator(96)", output_shape=(5, 784), parameters=1_952_528)


@check(points=1, function="build_dc_classifier")
def test_dc_classifier_shape_and_size(student):
    """maps (N, 784) images to (N, 1) logits with 1,102,721 parameters"""
    summary = network(student, "build_dc_classifier", x=_batch(5, 784), name="build_dc_classifier()")
    expect_module(summary, "build_dc_classifier()", output_shape=(5, 1), parameters=1_102_721)


@check(points=1, function="build_dc_generator")
def test_dc_generator_shape_and_size(student):
    """maps (N, 96) noise to (N, 784) images with 6,675,009 parameters"""
    summary = network(student, "build_dc_generator", 96, x=_batch(5, 96), name="build_dc_generator(96)")
    expect_module(summary, "build_dc_generator(96)", output_shape=(5, 784), parameters=6_675_009)


def _expect_order(summary: dict, name: str, wanted: list[str], hint: str) -> None:
    """The layers' types (and LeakyReLU slopes) follow ``wanted``, with a hint naming the usual mistake."""
    if not summary["is_module"]:
        expect_module(summary, name)
    got = [layer.split("(")[0] if not layer.startswith("LeakyReLU") else layer for layer in summary["layers"]]
    if got != wanted:
        first = next((i for i, (a, b) in enumerate(zip(got, wanted)) if a != b), min(len(got), len(wanted)))
        found = got[first] if first < len(got) else "nothing"
        expected = wanted[first] if first < len(wanted) else "nothing"
        figure = output_figure(summary.get("output"), 28, -1, 1, "your images")  # a generator's, on Tanh's scale
        fail(f"{name}'s layer {first + 1} is {found}; expected {expected}: {hint}.", figure)


LEAKY = "LeakyReLU(negative_slope=0.01)"


@check(points=1, function="discriminator")
def test_discriminator_layer_order(student):
    """Flatten, then Linear and LeakyReLU(0.01) in turn, ending in a Linear"""
    summary = network(student, "discriminator", x=_batch(4, 784), name="discriminator()")
    _expect_order(summary, "discriminator()", ["Flatten", "Linear", LEAKY, "Linear", LEAKY, "Linear"],
                  "the leaky slope is 0.01 (CS231n's, not DCGAN's 0.2), and no activation after the last layer "
                  "(the loss applies the sigmoid)")


@check(points=1, function="generator")
def test_generator_layer_order(student):
    """Linear and ReLU in turn, ending in Linear then Tanh"""
    summary = network(student, "generator", 96, x=_batch(4, 96), name="generator(96)")
    _expect_order(summary, "generator(96)", ["Linear", "ReLU", "Linear", "ReLU", "Linear", "Tanh"],
                  "ReLU after each hidden layer and Tanh last, so the pixels land in [-1, 1]")


@check(points=1, function="build_dc_classifier")
def test_dc_classifier_layer_order(student):
    """convolution, LeakyReLU(0.01), max pool (twice), then the fully connected layers"""
    summary = network(student, "build_dc_classifier", x=_batch(4, 784), name="build_dc_classifier()")
    _expect_order(summary, "build_dc_classifier()", [
        "Unflatten", "Conv2d", LEAKY, "MaxPool2d", "Conv2d", LEAKY, "MaxPool2d", "Flatten", "Linear", LEAKY, "Linear"],
        "each convolution is followed by LeakyReLU with slope 0.01 (not 0.2), then a 2x2 max pool")


@check(points=1, function="build_dc_generator")
def test_dc_generator_layer_order(student):
    """each hidden layer is followed by ReLU and then batch norm, as the notebook says"""
    summary = network(student, "build_dc_generator", 96, x=_batch(4, 96), name="build_dc_generator(96)")
    _expect_order(summary, "build_dc_generator(96)", [
        "Linear", "ReLU", "BatchNorm1d", "Linear", "ReLU", "BatchNorm1d", "Unflatten",
        "ConvTranspose2d", "ReLU", "BatchNorm2d", "ConvTranspose2d", "Tanh", "Flatten"],
        "in this generator batch norm comes after the ReLU (layer, ReLU, batch norm), not before it")
