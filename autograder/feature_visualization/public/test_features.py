"""Public checks: filter grids, penultimate features, nearest neighbours, PCA and layer activations.

Each check uses other inputs than the hidden ones (hand-made filter stacks, other seeds and sizes). The
correct values and the usual mistakes' values on these inputs are stored in ``references.pt``
(``PUBLIC_CASES``, built from the solution and the grader's judge): nothing here computes them.
"""

import torch

from vizgen.author import (
    ModelSpec, ReferenceCase, assignment_probes, check, expect_case, expect_clean_model, expect_dtype,
    expect_hooks_removed_on_error, expect_input_unchanged, expect_match, expect_shape, expect_tensor, fail,
    random_images, reproduced_mistake,
)

fv = assignment_probes(__file__)  # autograder/feature_visualization/probes.py: inputs and models only

PAIR_LOOP_CPU_S = 0.1  # CPU seconds for 300 x 300 pairs: vectorised ~5 ms, one loop over pairs ~0.5 s (measured)


def _padding_filters():
    weights = torch.randn(4, 3, 3, 1, generator=torch.Generator().manual_seed(3))  # (4, 3, 3, 1)
    weights[2] = -0.3  # constant: max - min = 0
    return weights


def _points(seed: int, queries: int, rows: int, dims: int):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(queries, dims, generator=generator), torch.randn(rows, dims, generator=generator)


ROUNDING = "float32 arithmetic: correct implementations differ only by rounding (~1e-7)."
PUBLIC_CASES = [
    ReferenceCase("public_grid_hand_made", "filter_grid", lambda: ([fv.hand_filters(), 1], {}), atol=1e-6, rtol=1e-5,
                  why="min-max scaling in " + ROUNDING, mistakes="grid_mistakes"),
    ReferenceCase("public_grid_padding_0", "filter_grid", lambda: ([_padding_filters(), 0], {}), atol=1e-6, rtol=1e-5,
                  why="min-max scaling in " + ROUNDING, mistakes="grid_mistakes"),
    ReferenceCase("public_grid_padding_3", "filter_grid", lambda: ([_padding_filters(), 3], {}), atol=1e-6, rtol=1e-5,
                  why="min-max scaling in " + ROUNDING, mistakes="grid_mistakes"),
    ReferenceCase("public_features_tiny_cnn", "extract_features",
                  lambda: ([ModelSpec("tiny_cnn", seed=41), random_images(3, 16, seed=41)], {}), atol=1e-5, rtol=1e-4,
                  why="a float32 forward pass: " + ROUNDING, mistakes="features_mistakes"),
    ReferenceCase("public_features_two_linears", "extract_features",
                  lambda: ([ModelSpec("two_linear_cnn", seed=40), random_images(3, 16, seed=40)], {}), atol=1e-5,
                  rtol=1e-4, why="a float32 forward pass: " + ROUNDING, mistakes="features_mistakes"),
    ReferenceCase("public_neighbors_five", "nearest_neighbors", lambda: ([*_points(43, 5, 30, 6), 4], {}), atol=0.0,
                  rtol=0.0, why="indices: Gaussian points have no distance within 1e-4 of another, so every correct "
                                "implementation, float32 or float64, orders them alike.", mistakes="neighbor_mistakes"),
    ReferenceCase("public_neighbors_forty", "nearest_neighbors", lambda: ([*_points(44, 40, 50, 8), 3], {}), atol=0.0,
                  rtol=0.0, why="indices of Gaussian points (no near ties): exact.", mistakes="neighbor_mistakes"),
    ReferenceCase("public_neighbors_timed", "nearest_neighbors", lambda: ([*_points(49, 300, 300, 8), 3], {}),
                  atol=0.0, rtol=0.0, why="indices of Gaussian points (no near ties): exact.",
                  mistakes="neighbor_mistakes"),
    ReferenceCase("public_pca_forty", "pca", lambda: ([fv.spread_data(40, 12, seed=45), 3], {}), atol=1e-5, rtol=1e-4,
                  why="float64 SVD or eigendecomposition of well separated variances: routes agree to ~1e-10.",
                  mistakes="pca_mistakes"),
    ReferenceCase("public_pca_five", "pca", lambda: ([fv.spread_data(25, 7, seed=46), 5], {}), atol=1e-5, rtol=1e-4,
                  why="float64 SVD or eigendecomposition of well separated variances: routes agree to ~1e-10.",
                  mistakes="pca_mistakes"),
    ReferenceCase("public_activations_tiny_cnn", "get_activations",
                  lambda: ([ModelSpec("tiny_cnn", seed=47), random_images(2, 16, seed=47), "features.3"], {}),
                  atol=1e-5, rtol=1e-4, why="a float32 forward pass: " + ROUNDING, mistakes="activations_mistakes"),
]


def _expect_grid(call, case) -> None:
    grid = expect_tensor(call.value, "filter_grid's image")
    expect_shape(grid, case.output.shape, "filter_grid's image", hint=fv.GRID_LAYOUT)
    expect_dtype(grid, torch.float32, "filter_grid's image")
    expect_case(grid, case, "filter_grid's image", fv.GRID_FORMULA, not_finite=fv.GRID_FINITE)
    expect_input_unchanged(call, "weights")


@check(points=1, function="filter_grid")
def test_filter_grid_hand_made(student, reference):
    """lays five hand-made 2x2 filters out in 2 rows of 3 with 1-pixel gaps, each min-max normalised on its own"""
    case = reference.case("public_grid_hand_made")
    _expect_grid(student.filter_grid(*case.args), case)


@check(points=1, function="filter_grid")
def test_filter_grid_padding(student, reference):
    ("padding=0 and padding=3 change only the gaps: 4 filters of 3x1 make a (2*(3+p)-p, 2*(1+p)-p, 3) image; "
     "a constant filter is 0")
    for name in ("public_grid_padding_0", "public_grid_padding_3"):
        case = reference.case(name)
        _expect_grid(student.filter_grid(*case.args), case)


@check(points=2, function="extract_features")
def test_extract_features_penultimate(student, reference):
    ("returns the input of the last Linear layer, (N, 64) for a tiny CNN and (N, 32) for one whose head is "
     "Linear-ReLU-Linear, as float32, and leaves model and input as they were")
    for name in ("public_features_tiny_cnn", "public_features_two_linears"):
        case = reference.case(name)
        call = student.extract_features(*case.args)
        feats = expect_tensor(call.value, "features")
        expect_case(feats, case, "features", "what the model's last nn.Linear receives (register_forward_pre_hook), "
                    "flattened to (N, D)")
        expect_dtype(feats, torch.float32, "features")
        expect_clean_model(call, "model")
        expect_input_unchanged(call, "X")


@check(points=1, function="extract_features")
def test_extract_features_removes_hook_on_error(student):
    """removes its hook in a `finally` block: a model whose forward raises is left without hooks"""
    expect_hooks_removed_on_error(
        lambda: student.extract_features(ModelSpec("raising_cnn", seed=42), random_images(1, 16, seed=42)),
        "extract_features", fv.RAISES)


def _expect_neighbors(value, case) -> None:
    query, database, k = case.args
    index = expect_tensor(value, "nearest_neighbors' indices")
    expect_shape(index, (len(query), k), "nearest_neighbors' indices", hint="one row of k database indices per query")
    if index.dtype.is_floating_point:  # the distances themselves? named only when they reproduce the stored ones
        floats = {m: v for m, v in case.mistakes.items() if v.dtype.is_floating_point}
        named = reproduced_mistake(index, floats, 1e-5, 1e-5)
        if named:
            fail(f"nearest_neighbors' values are wrong: likely bug: {named}.")
    expect_dtype(index, torch.int64, "nearest_neighbors' indices",
                 hint="return database indices as int64 (argsort's result, or topk's .indices)")
    if index.min() < 0 or index.max() >= len(database):
        fail(f"nearest_neighbors returned indices from {int(index.min())} to {int(index.max())}; the database has "
             f"{len(database)} rows: return indices into the database.")
    expect_case(index, case, "nearest_neighbors' indices",
                "the Euclidean distance of every query to every database row, then the k smallest, nearest first")


@check(points=2, function="nearest_neighbors")
def test_nearest_neighbors_brute_force(student, reference):
    """matches brute force on 5 queries and 30 database rows of 6 values, k = 4, nearest first; inputs unchanged"""
    case = reference.case("public_neighbors_five")
    call = student.nearest_neighbors(*case.args)
    _expect_neighbors(call.value, case)
    expect_input_unchanged(call, "query")
    expect_input_unchanged(call, "database")


@check(points=1, function="nearest_neighbors")
def test_nearest_neighbors_no_pair_loop(student, reference):
    ("computes all distances at once: at most 200 torch calls for 40 queries and 50 rows, and at most 0.1 s of CPU "
     "for 300 x 300 pairs (a loop over pairs makes thousands of calls and takes longer)")
    case = reference.case("public_neighbors_forty")
    result = student.probe("count_torch_calls", "nearest_neighbors", *case.args).value
    _expect_neighbors(result["value"], case)  # only a right answer's cost counts
    if result["calls"] > 200:
        fail(f"nearest_neighbors made {result['calls']} torch calls for 40 x 50 pairs: compute every distance at once "
             "(torch.cdist, or ||q||^2 - 2 q.d + ||d||^2 with one matrix product), then sort each row.")
    timed = reference.case("public_neighbors_timed")
    call = student.nearest_neighbors(*timed.args)
    _expect_neighbors(call.value, timed)
    if call.cpu_seconds > PAIR_LOOP_CPU_S:  # the kernel's clock of the function's process: code cannot forge it
        fail(f"nearest_neighbors took {call.cpu_seconds:.2f} s of CPU for 300 x 300 pairs (a vectorised search takes "
             f"about 0.005 s; at most {PAIR_LOOP_CPU_S} s): compute every distance at once (torch.cdist, or "
             "||q||^2 - 2 q.d + ||d||^2 with one matrix product), then sort each row.")


def _signs(components: torch.Tensor) -> torch.Tensor:
    """(k,) signs making each row's largest-magnitude entry positive (components are defined up to sign)."""
    return torch.sign(components.gather(1, components.abs().argmax(dim=1, keepdim=True))).flatten()


def _expect_pca(call, case) -> None:
    value = call.value
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        fail(f"pca returned a {type(value).__name__}; expected a pair (projected (N, k), components (k, D)).")
    projected = expect_tensor(value[0], "pca's projected").double()
    components = expect_tensor(value[1], "pca's components").double()
    want_projected, want_components = (v.double() for v in case.output)
    k = len(want_components)
    expect_shape(components, want_components.shape, "pca's components",
                 hint="return one component per ROW, (k, D): the first k rows of Vh from torch.linalg.svd")
    expect_shape(projected, want_projected.shape, "pca's projected", hint="(features - mean) @ components.T")
    features = case.args[0]
    for part, name in ((value[0], "pca's projected"), (value[1], "pca's components")):
        expect_dtype(part, features.dtype, name, hint="keep features' dtype: no .float() or .double()")
    gram = components @ components.T  # (k, k): the identity for orthonormal rows
    off = (gram - torch.eye(k, dtype=torch.float64)).abs().max().item()
    if off > 1e-4:
        fail(f"pca's components are not orthonormal rows (components @ components.T differs from the identity by up "
             f"to {off:.3g}): return unit-length, mutually orthogonal rows, the first k right singular vectors of "
             "the centred data (rows of Vh).")
    ours, theirs = _signs(components), _signs(want_components)
    for got, want, name, formula in (
            (components * ours[:, None], want_components * theirs[:, None], "pca's components (up to sign)",
             "the first k right singular vectors of features - mean, by decreasing singular value"),
            (projected * ours[None, :], want_projected * theirs[None, :], "pca's projected",
             "(features - mean) @ components.T")):
        mistakes = {m: v for m, v in case.mistakes.items() if tuple(v.shape) == tuple(want.shape)}
        expect_match(got, want, mistakes, name, formula, atol=case.atol, rtol=case.rtol)
    expect_input_unchanged(call, "features")


@check(points=1, function="pca")
def test_pca_matches_sklearn(student, reference):
    ("on 40 rows of 12 features, k = 3: scikit-learn's components up to sign (recomputed from the covariance), "
     "and the projection")
    case = reference.case("public_pca_forty")
    _expect_pca(student.pca(*case.args), case)


@check(points=1, function="pca")
def test_pca_orthonormal(student, reference):
    """k = 5 of 25 rows of 7 features: orthonormal component rows and projected = (X - mean) @ components.T"""
    case = reference.case("public_pca_five")
    _expect_pca(student.pca(*case.args), case)


@check(points=1, function="get_activations")
def test_get_activations_before_inplace_relu(student, reference):
    """returns features.3's output (N, 16, 8, 8) as it was before the in-place ReLU6 after it, leaving no hook"""
    case = reference.case("public_activations_tiny_cnn")
    call = student.get_activations(*case.args)
    acts = expect_tensor(call.value, "activations")
    expect_shape(acts, (2, 16, 8, 8), "activations", hint="the output of model.get_submodule(layer)")
    expect_case(acts, case, "activations", "the output of model.get_submodule(layer), kept by a forward hook")
    expect_clean_model(call, "model")
    expect_input_unchanged(call, "X")


@check(points=1, function="get_activations")
def test_get_activations_removes_hook_on_error(student):
    """removes its hook in a `finally` block: a model whose forward raises is left without hooks"""
    expect_hooks_removed_on_error(
        lambda: student.get_activations(ModelSpec("raising_cnn", seed=48), random_images(1, 16, seed=48), "features.0"),
        "get_activations", fv.RAISES)
