"""Public checks: the four networks, by output shape and parameter count."""

from vizgen.author.expect import expect_module
from vizgen.author.checks import check


@check(points=1, function="discriminator")
def test_discriminator_shape_and_size(student):
    """maps (N, 784) images to (N, 1) logits with 267,009 parameters"""
    summary = student.probe("module_summary", "discriminator", input_shape=(5, 784)).value
    expect_module(summary, "discriminator()", output_shape=(5, 1), parameters=267_009)


@check(points=1, function="generator")
def test_generator_shape_and_size(student):
    """maps (N, 96) noise to (N, 784) images with 1,952,528 parameters"""
    summary = student.probe("module_summary", "generator", 96, input_shape=(5, 96)).value
    expect_module(summary, "generator(96)", output_shape=(5, 784), parameters=1_952_528)


@check(points=1, function="build_dc_classifier")
def test_dc_classifier_shape_and_size(student):
    """maps (N, 784) images to (N, 1) logits with 1,102,721 parameters"""
    summary = student.probe("module_summary", "build_dc_classifier", input_shape=(5, 784)).value
    expect_module(summary, "build_dc_classifier()", output_shape=(5, 1), parameters=1_102_721)


@check(points=1, function="build_dc_generator")
def test_dc_generator_shape_and_size(student):
    """maps (N, 96) noise to (N, 784) images with 6,675,009 parameters"""
    summary = student.probe("module_summary", "build_dc_generator", 96, input_shape=(5, 96)).value
    expect_module(summary, "build_dc_generator(96)", output_shape=(5, 784), parameters=6_675_009)
