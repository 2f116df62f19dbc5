"""Public checks: non-parametric texture synthesis (Efros and Leung 1999), by its properties."""

import numpy as np

from vizgen.author.expect import fail, expect_array, expect_dtype, expect_shape
from vizgen.author.checks import check


def _sample(seed, size=16):
    return np.random.default_rng(seed).integers(0, 256, (size, size, 3), dtype=np.uint8)  # (size, size, 3)


def expect_copied_from(out: np.ndarray, sample: np.ndarray, name: str) -> None:
    """Every pixel (RGB triple) of ``out`` occurs in ``sample``."""
    known = {tuple(p) for p in sample.reshape(-1, 3)}
    foreign = sum(tuple(p) not in known for p in out.reshape(-1, 3))
    if foreign:
        fail(
            f"{name}: {foreign} of {out.shape[0] * out.shape[1]} output pixels do not occur in the sample: copy the "
            "centre pixel of a matching sample window (no averaging, blending or interpolation)."
        )


@check(points=1, function="synthesize_texture_nn")
def test_texture_shape_and_pixels_from_sample(student):
    """returns a uint8 (out_size, out_size, 3) image whose every pixel comes from the sample"""
    sample = _sample(1)
    out = expect_array(student.synthesize_texture_nn(sample, 12, 5, 0).value, "the texture")
    expect_shape(out, (12, 12, 3), "the texture", hint="return an (out_size, out_size, 3) array")
    expect_dtype(out, np.uint8, "the texture", hint="return .astype(np.uint8), like the sample")
    expect_copied_from(out, sample, "the texture")


@check(points=1, function="synthesize_texture_nn")
def test_texture_is_deterministic_under_its_seed(student):
    """gives the same texture for the same seed and a different one for another seed"""
    sample = _sample(2)
    first = expect_array(student.synthesize_texture_nn(sample, 10, 3, 5).value, "the texture")
    again = expect_array(student.synthesize_texture_nn(sample, 10, 3, 5).value, "the texture")
    other = expect_array(student.synthesize_texture_nn(sample, 10, 3, 6).value, "the texture")
    if not np.array_equal(first, again):
        fail("two calls with seed 5 gave different textures: draw every random choice from "
             "np.random.default_rng(seed), not from np.random or torch's global generator.")
    if np.array_equal(first, other):
        fail("seeds 5 and 6 gave the same texture: use the seed (np.random.default_rng(seed)) and pick "
             "at random among the near-best windows.")
