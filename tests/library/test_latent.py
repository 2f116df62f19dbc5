"""vizgen.topics.latent: the bilinear game's dynamics, ink mass and attribute directions, against
hand-computed cases."""

import math

import pytest
import torch

from vizgen.topics.latent import attribute_direction, bilinear_game, ink_mass


def test_simultaneous_steps_spiral_out_by_sqrt_one_plus_lr_squared():
    """Simultaneous steps multiply the distance to (0, 0) by sqrt(1 + lr^2) each step (a rotation-scaling)."""
    path = bilinear_game((1.0, 0.5), lr=0.2, steps=30)
    radius = path.norm(dim=1)  # (31,)
    assert torch.allclose(radius[1:] / radius[:-1], torch.full((30,), math.sqrt(1 + 0.2**2), dtype=torch.float64))


def test_alternating_steps_stay_on_a_bounded_orbit():
    """Alternating steps preserve x^2 + y^2 - lr * x * y (area-preserving map): they neither converge nor diverge."""
    lr = 0.2
    path = bilinear_game((1.0, 0.5), lr=lr, steps=500, alternating=True)
    invariant = path[:, 0] ** 2 + path[:, 1] ** 2 - lr * path[:, 0] * path[:, 1]  # (501,)
    assert torch.allclose(invariant, invariant[0].expand(501), rtol=1e-9)
    assert path.norm(dim=1).min() > 0.5  # never reaches the equilibrium


def test_first_step_by_hand():
    assert bilinear_game((1.0, 2.0), lr=0.5, steps=1).tolist() == [[1.0, 2.0], [0.0, 2.5]]
    assert bilinear_game((1.0, 2.0), lr=0.5, steps=1, alternating=True).tolist() == [[1.0, 2.0], [0.0, 2.0]]


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="lr > 0"):
        bilinear_game(lr=0.0)


def test_ink_mass_of_black_white_and_half_images():
    images = torch.stack([torch.full((784,), -1.0), torch.full((784,), 1.0),
                          torch.cat([torch.full((392,), 1.0), torch.full((392,), -1.0)])])
    assert ink_mass(images).tolist() == [0.0, 1.0, 0.5]
    assert ink_mass(images.view(3, 1, 28, 28)).tolist() == [0.0, 1.0, 0.5]


def test_attribute_direction_recovers_a_linear_attribute():
    """If the score is linear in z along u, the top-minus-bottom direction points along u."""
    z = torch.rand(4000, 8, generator=torch.Generator().manual_seed(0)) * 2 - 1  # (N, 8)
    u = torch.tensor([1.0, -2.0, 0, 0, 0, 0, 0, 0.5])
    direction = attribute_direction(z, z @ u)
    cosine = torch.nn.functional.cosine_similarity(direction, u, dim=0)
    assert cosine > 0.99
    with pytest.raises(ValueError, match="one score per latent vector"):
        attribute_direction(z, (z @ u)[:10])
