"""Public checks of the warm-up: PCA reconstructions against the stored reference (equal to scikit-learn's,
which tests/library/test_vae.py checks) with the usual mistakes named, the autoencoder's shape, its layers
(the notebook's table) and its logits."""

import torch

from vizgen.author import ReferenceCase, check, expect_case, expect_input_unchanged, expect_module, expect_shape, \
    expect_tensor, fail
from vizgen.author.support import assignment_probes

vae = assignment_probes(__file__)  # autograder/variational_autoencoders/probes.py

PUBLIC_CASES = [
    ReferenceCase("public_pca_low_rank_k3", "pca_reconstruct", lambda: ([vae.low_rank_data(40, 12, 4, seed=1), 3], {}),
                  atol=1e-6, rtol=1e-6, mistakes="pca_candidates",
                  why="float64 SVD of 40 x 12 centred data: reconstructions agree to ~1e-12 whatever the route "
                      "(SVD, covariance eigenvectors, scikit-learn) or the signs of the directions."),
]


@check(points=1, function="pca_reconstruct")
def test_pca_matches_sklearn(student, reference):
    ("equals scikit-learn's PCA(k) reconstruction (recomputed from the covariance's eigenvectors) "
     "on 40 rows of 12 features, k = 3")
    case = reference.case("public_pca_low_rank_k3")
    x, k = case.args
    call = student.pca_reconstruct(x, k)
    recon = expect_tensor(call.value, "pca_reconstruct(X, 3)")
    expect_shape(recon, tuple(x.shape), "pca_reconstruct(X, 3)", hint="return one reconstructed row per row of X")
    expect_case(recon, case, "pca_reconstruct(X, 3)", vae.PCA_FORMULA)
    expect_input_unchanged(call, "X")


@check(points=1, function="Autoencoder")
def test_autoencoder_shape_and_size(student):
    """maps (N, 784) to (N, 784) logits with 644,804 parameters"""
    summary = student.probe("module_summary", "Autoencoder", input_shape=(5, 784)).value
    expect_module(summary, "Autoencoder()", output_shape=(5, 784), parameters=644_804)


@check(points=1, function="Autoencoder")
def test_autoencoder_layers_and_logits(student):
    """Autoencoder(50, 16, 4) has the table's layers in order and its forward returns logits, not probabilities"""
    summary = student.probe("module_summary", "Autoencoder", 50, 16, 4, input_shape=(3, 50)).value
    expect_module(summary, "Autoencoder(50, 16, 4)", output_shape=(3, 50), layers=[
        "Linear(in_features=50, out_features=16)", "ReLU()", "Linear(in_features=16, out_features=4)",
        "Linear(in_features=4, out_features=16)", "ReLU()", "Linear(in_features=16, out_features=50)"],
        layers_hint="build the encoder and the decoder as the table says, each size from the constructor's "
                    "arguments, and no layer after the decoder's last Linear")
    x = vae.binary_images(3, 50, seed=5)  # (3, 50)
    out = student.probe("vae_summary", "Autoencoder", 50, 16, 4, method="forward", inputs=x).value
    logits = out["output"]
    if out["error"] or not isinstance(logits, torch.Tensor):
        fail(f"Autoencoder(50, 16, 4)(x) did not return a tensor ({out['error'] or 'got ' + type(logits).__name__})"
             ": forward returns the decoder's output.")
    if not float(logits.min()) < 0:
        fail("Autoencoder(50, 16, 4)(x) never returned a negative value, so it returns probabilities: end the "
             "decoder with its Linear layer (logits); the loss applies the sigmoid.")
