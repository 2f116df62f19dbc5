"""Public checks: filter grids, penultimate features, nearest neighbours and PCA.

Each check uses other inputs than the hidden ones (hand-made filter stacks, other seeds and sizes).
"""

import torch

from vizgen.author.expect import (
    expect_clean_model, expect_close, expect_hooks_removed_on_error, expect_input_unchanged, expect_shape, expect_tensor,
    fail,
)
from vizgen.author.inputs import random_images
from vizgen.author.checks import check
from vizgen.author.support import assignment_probes
from vizgen.author.models import ModelSpec

fv = assignment_probes(__file__)  # autograder/feature_visualization/probes.py


@check(points=1, function="filter_grid")
def test_filter_grid_hand_made(student):
    """lays five hand-made 2x2 filters out in 2 rows of 3 with 1-pixel gaps, each min-max normalised on its own"""
    weights = fv.hand_filters()  # (5, 3, 2, 2)
    fv.expect_grid(student.filter_grid(weights, 1), weights, 1)


@check(points=1, function="filter_grid")
def test_filter_grid_padding(student):
    """padding=0 and padding=3 change only the gaps: 4 filters of 3x1 make a (2*(3+p)-p, 2*(1+p)-p, 3) image; a constant filter is 0"""
    weights = torch.randn(4, 3, 3, 1, generator=torch.Generator().manual_seed(3))  # (4, 3, 3, 1)
    weights[2] = -0.3  # constant: max - min = 0
    for padding in (0, 3):
        fv.expect_grid(student.filter_grid(weights, padding), weights, padding)


@check(points=1, function="extract_features")
def test_extract_features_penultimate(student):
    """returns the (N, 64) input of a tiny CNN's last Linear layer and leaves model and input as they were"""
    spec, X = ModelSpec("tiny_cnn", seed=41), random_images(3, 16, seed=41)
    call = student.extract_features(spec, X)
    feats = expect_tensor(call.value, "features")
    if tuple(feats.shape) == (3, 10):
        fail("extract_features returned the logits (N, 10): return the INPUT of the last nn.Linear (a forward pre-hook "
             "on it sees that input), here (N, 64).")
    expect_shape(feats, (3, 64), "features", hint="the last nn.Linear's input, flattened to (N, D)")
    expect_close(feats, fv.penultimate(fv.SUPPORT.build_model(spec), X), "features", atol=1e-5, rtol=1e-4,
                 hint="capture what the model's last nn.Linear receives (register_forward_pre_hook)")
    expect_clean_model(call, "model")
    expect_input_unchanged(call, "X")


@check(points=1, function="extract_features")
def test_extract_features_removes_hook_on_error(student):
    """removes its hook in a `finally` block: a model whose forward raises is left without hooks"""
    expect_hooks_removed_on_error(
        lambda: student.extract_features(ModelSpec("raising_cnn", seed=42), random_images(1, 16, seed=42)),
        "extract_features", fv.RAISES)


@check(points=1, function="nearest_neighbors")
def test_nearest_neighbors_brute_force(student):
    """matches brute force on 5 queries and 30 database rows of 6 values, k = 4, nearest first"""
    generator = torch.Generator().manual_seed(43)
    query, database = torch.randn(5, 6, generator=generator), torch.randn(30, 6, generator=generator)
    fv.expect_neighbors(student.nearest_neighbors(query, database, 4).value, query, database, 4)


@check(points=1, function="nearest_neighbors")
def test_nearest_neighbors_no_pair_loop(student):
    """computes all distances at once: at most 200 torch calls for 40 queries and 50 rows (a loop over pairs makes thousands)"""
    generator = torch.Generator().manual_seed(44)
    query, database = torch.randn(40, 8, generator=generator), torch.randn(50, 8, generator=generator)
    result = student.probe("count_torch_calls", "nearest_neighbors", query, database, 3).value
    fv.expect_neighbors(result["value"], query, database, 3)  # only a right answer's cost counts
    if result["calls"] > 200:
        fail(f"nearest_neighbors made {result['calls']} torch calls for 40 x 50 pairs: compute every distance at once "
             "(torch.cdist, or ||q||^2 - 2 q.d + ||d||^2 with one matrix product), then sort each row.")


@check(points=1, function="pca")
def test_pca_matches_sklearn(student):
    """on 40 rows of 12 features, k = 3: scikit-learn's components up to sign (recomputed from the covariance), and the projection"""
    x = fv.spread_data(40, 12, seed=45)
    fv.expect_pca(student.pca(x, 3), x, 3)


@check(points=1, function="pca")
def test_pca_orthonormal(student):
    """k = 5 of 25 rows of 7 features: orthonormal component rows and projected = (X - mean) @ components.T"""
    x = fv.spread_data(25, 7, seed=46)
    fv.expect_pca(student.pca(x, 5), x, 5)


@check(points=1, function="get_activations")
def test_get_activations_before_inplace_relu(student):
    """returns features.3's output (N, 16, 8, 8) as it was before the in-place ReLU6 after it, leaving no hook"""
    spec, X = ModelSpec("tiny_cnn", seed=47), random_images(2, 16, seed=47)
    call = student.get_activations(spec, X, "features.3")
    acts = expect_tensor(call.value, "activations")
    expect_shape(acts, (2, 16, 8, 8), "activations", hint="the output of model.get_submodule(layer)")
    model = fv.SUPPORT.build_model(spec)
    want = fv.layer_output(model, X, "features.3")
    if not torch.allclose(acts, want, atol=1e-5) and torch.allclose(acts, want.clamp(0, 6), atol=1e-5):
        fail("the activations were overwritten by the in-place ReLU6 that follows the layer: keep output.clone() "
             "(or output.detach().clone()) in the hook, not the output tensor itself.")
    expect_close(acts, want, "activations", atol=1e-5, rtol=1e-4, hint="hook model.get_submodule(layer)")
    expect_clean_model(call, "model")
    expect_input_unchanged(call, "X")


@check(points=1, function="get_activations")
def test_get_activations_removes_hook_on_error(student):
    """removes its hook in a `finally` block: a model whose forward raises is left without hooks"""
    expect_hooks_removed_on_error(
        lambda: student.get_activations(ModelSpec("raising_cnn", seed=48), random_images(1, 16, seed=48), "features.0"),
        "get_activations", fv.RAISES)
