"""Public checks of the warm-up: PCA reconstructions against an independent PCA (equal to scikit-learn's, which
tests/test_vae.py checks), the autoencoder's shape."""

from vizgen.author.expect import expect_module
from vizgen.author.checks import check
from vizgen.author.support import assignment_probes

vae = assignment_probes(__file__)  # autograder/variational_autoencoders/probes.py
expect_pca, low_rank_data = vae.expect_pca, vae.low_rank_data


@check(points=1, function="pca_reconstruct")
def test_pca_matches_sklearn(student):
    """equals scikit-learn's PCA(k) reconstruction (recomputed from the covariance's eigenvectors) on 40 rows of 12 features, k = 3"""
    x = low_rank_data(40, 12, 4, seed=1)
    expect_pca(student.pca_reconstruct(x, 3), x, 3)


@check(points=1, function="Autoencoder")
def test_autoencoder_shape_and_size(student):
    """maps (N, 784) to (N, 784) logits with 644,804 parameters"""
    summary = student.probe("module_summary", "Autoencoder", input_shape=(5, 784)).value
    expect_module(summary, "Autoencoder()", output_shape=(5, 784), parameters=644_804)
