"""Public checks: non-parametric texture synthesis (Efros and Leung 1999), by its properties: pixels copied
from the sample, a periodic sample continued with its period (what matching only the already-filled pixels
of each neighbourhood gives), and, with window 1 (nothing filled to match), the law of the copied pixels:
uniform over the sample's pixels, since every window is then a best match."""

import numpy as np
import torch

from vizgen.author import expect_categorical
from vizgen.author.expect import expect_periodic, expect_pixels_from
from vizgen.author.expect import fail, expect_array, expect_dtype, expect_shape
from vizgen.author.checks import check



def _sample(seed, size=16):
    return np.random.default_rng(seed).integers(0, 256, (size, size, 3), dtype=np.uint8)  # (size, size, 3)


@check(points=1, function="synthesize_texture_nn")
def test_texture_shape_and_pixels_from_sample(student):
    """returns a uint8 (out_size, out_size, 3) image whose every pixel comes from the sample"""
    sample = _sample(1)
    out = expect_array(student.synthesize_texture_nn(sample, 12, 5, 0).value, "the texture")
    expect_shape(out, (12, 12, 3), "the texture", hint="return an (out_size, out_size, 3) array")
    expect_dtype(out, np.uint8, "the texture", hint="return .astype(np.uint8), like the sample")
    expect_pixels_from(out, sample, "the texture")


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


@check(points=2, function="synthesize_texture_nn")
def test_texture_continues_a_periodic_sample(student):
    """continues a sample made of one repeated 3 x 3 tile with the same period (matching filled pixels only)"""
    tile = np.random.default_rng(3).integers(0, 256, (3, 3, 3), dtype=np.uint8)
    sample = np.tile(tile, (5, 5, 1))  # (15, 15, 3), period 3 both ways
    out = expect_array(student.synthesize_texture_nn(sample, 12, 3, 2).value, "the texture")
    expect_shape(out, (12, 12, 3), "the texture", hint="return an (out_size, out_size, 3) array")
    expect_periodic(out, sample, 3, "compare each pixel's neighbourhood with the sample windows over the "
                    "already-filled pixels only (a mask of the filled pixels; the unfilled ones are not black, "
                    "they are unknown), and copy the centre of a near-best window")


def _distinct_sample() -> np.ndarray:
    """A (6, 6, 3) sample whose 36 pixels all differ: a copied pixel tells which window was picked."""
    index = np.arange(36, dtype=np.uint8).reshape(6, 6)
    return np.stack([index * 7, 255 - index * 5, index * 3 + 10], axis=-1).astype(np.uint8)


@check(points=1, function="synthesize_texture_nn")
def test_texture_window_one_draws_uniformly(student):
    """with window 1 (nothing to match), its 1,024 pixels are uniform draws from the sample's 36 pixels"""
    sample = _distinct_sample()  # (6, 6, 3)
    index = {tuple(p): k for k, p in enumerate(sample.reshape(-1, 3))}
    out = expect_array(student.synthesize_texture_nn(sample, 32, 1, 0).value, "the texture for window 1")
    expect_shape(out, (32, 32, 3), "the texture for window 1",
                 hint="window 1 is an odd window too: its neighbourhood is the pixel alone (window // 2 == 0; "
                      "note that out[r:-r] is empty when r == 0)")
    expect_pixels_from(out, sample, "the texture for window 1")
    draws = [index[tuple(p)] for p in out.reshape(-1, 3)]  # (1024,) the sample pixel each one copies
    expect_categorical(torch.tensor(draws), torch.full((36,), 1 / 36),
                       "the pixels of a 32 x 32 texture grown with window 1 from a 6 x 6 sample of 36 distinct pixels",
                       "with window 1 no pixel is filled before it is chosen, so every sample window matches equally "
                       "well: pick uniformly at random among all the windows within 10% of the best (rng.choice "
                       "over them), not the first one or a fixed number of them")
