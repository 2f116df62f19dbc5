"""Public checks of the ELBO's derivation: the closed-form KL of two diagonal Gaussians, against stored
references (the solution's values and the usual mistakes' values on the same inputs), and its value 0
when the two Gaussians are equal (by hand)."""

import torch

from vizgen.author import ReferenceCase, assignment_probes, check, expect_case, expect_close, expect_tensor

vae = assignment_probes(__file__)  # autograder/variational_autoencoders/probes.py


def _general():
    generator = torch.Generator().manual_seed(71)
    mu_q, mu_p = torch.randn(4, 3, generator=generator), torch.randn(4, 3, generator=generator)  # (N, Z) = (4, 3)
    logvar_q = torch.randn(4, 3, generator=generator)  # (4, 3)
    logvar_p = torch.randn(4, 3, generator=generator) * 0.7 + 0.5  # (4, 3)
    return [mu_q, logvar_q, mu_p, logvar_p], {}


def _to_the_prior():
    generator = torch.Generator().manual_seed(72)
    mu_q, logvar_q = torch.randn(5, 2, generator=generator) * 1.5, torch.randn(5, 2, generator=generator)  # (5, 2)
    return [mu_q, logvar_q, torch.zeros(5, 2), torch.zeros(5, 2)], {}


KL_WHY = "float32 sums of a few terms of order 1-10: correct formulations agree to ~1e-6 relative."
PUBLIC_CASES = [
    ReferenceCase("public_gaussian_kl_general", "gaussian_kl", _general, atol=1e-5, rtol=1e-4, why=KL_WHY,
                  mistakes="gaussian_kl_candidates"),
    ReferenceCase("public_gaussian_kl_to_the_prior", "gaussian_kl", _to_the_prior, atol=1e-5, rtol=1e-4, why=KL_WHY,
                  mistakes="gaussian_kl_candidates"),
]


@check(points=1, function="gaussian_kl")
def test_gaussian_kl_general(student, reference):
    """KL(q || p) of two diagonal Gaussians, one value per row, on 4 rows of 3 latent dimensions"""
    case = reference.case("public_gaussian_kl_general")
    expect_case(student.gaussian_kl(*case.args).value, case, "gaussian_kl", vae.GAUSSIAN_KL_FORMULA)


@check(points=1, function="gaussian_kl")
def test_gaussian_kl_to_the_prior_and_to_itself(student, reference):
    ("against p = N(0, I) it is the KL term of the VAE's loss (Kingma and Welling 2014, App. B), and it is 0 "
     "when q = p")
    case = reference.case("public_gaussian_kl_to_the_prior")
    expect_case(student.gaussian_kl(*case.args).value, case, "gaussian_kl(mu, logvar, 0, 0)",
                vae.GAUSSIAN_KL_FORMULA)
    mu, logvar = case.args[0], case.args[1]
    same = expect_tensor(student.gaussian_kl(mu, logvar, mu.clone(), logvar.clone()).value, "gaussian_kl(q, q)")
    expect_close(same, torch.zeros(len(mu)), "gaussian_kl(q, q)", atol=1e-5, rtol=0.0,
                 hint="a distribution's KL to itself is 0 in every row: check the -1 per dimension and the "
                      "log-variance term")
