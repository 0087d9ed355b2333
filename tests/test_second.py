"""Second derivatives (deriv.second): Hessians, Newton steps and Hessian-vector products,
checked against the adjoint program of the extended graph; wrong ones fail."""

from pathlib import Path

import pytest
from click.testing import CliRunner

import deriv
from deriv.cli import main
from deriv.errors import DerivError

HERE = Path(__file__).parent / "fixtures" / "second"


def _verdicts(name, problem_id=None):
    problems = deriv.load_all(str(HERE / name))
    report = deriv.check(problems if problem_id is None else
                         [p for p in problems if p.id == problem_id], samples=400, seed=3)
    return {v.claim.id: v for v in report.verdicts}


def test_least_squares_hessian_passes_and_a_wrong_one_fails():
    v = _verdicts("ls.toml")
    assert v["grad"].verdict == v["hess"].verdict == v["hess-nested"].verdict == "pass"
    assert v["hess-wrong"].verdict == "fail"


def test_ridge_newton_step_and_hessian():
    v = _verdicts("ridge.toml", "ridge-newton")
    assert v["hessian"].verdict == v["newton"].verdict == "pass"
    assert v["newton-no-ridge"].verdict == "fail"
    assert v["hessian-no-ridge"].verdict == "fail"


def test_hessian_vector_product_of_a_matrix_input():
    v = _verdicts("ridge.toml", "frob-hvp")
    assert v["hvp"].verdict == "pass"
    assert v["hvp-wrong"].verdict == "fail"


def test_truth_is_the_hessian_on_every_seed():
    """Against NumPy's own AᵀA: the extended graph's program, not a formula deriv wrote."""
    import numpy as np
    from deriv.checker import Options, ProblemCheck
    problem = deriv.load(str(HERE / "ls.toml"))
    for seed in range(3):
        pc = ProblemCheck(problem, Options(200, seed))
        claim = next(c for c in problem.claims if c.id == "hess")
        for batch in pc.batches:
            a = batch.inputs["A"]
            want = np.einsum("kis,kjs->ijs", a, a)
            assert np.allclose(pc.truth(batch.values, claim), want)


def test_solve_prints_ata():
    result = CliRunner().invoke(main, ["solve", str(HERE / "ls.toml")])
    assert result.exit_code == 0, result.output
    assert "∂²L/∂x² = AᵀA" in result.output
    assert "Reverse mode: adjoints ∂(∂L/∂x)/∂·" in result.output
    forward = CliRunner().invoke(main, ["solve", str(HERE / "ls.toml"), "--mode", "forward"])
    assert "Forward mode" in forward.output and "∂²L/∂x² = AᵀA" in forward.output  # H·ẋ


@pytest.mark.parametrize("claim, message, place", [
    ('of = "D(r, x)"\nwrt = "x"\nexpr = "A"', "'r' is not a scalar", (11, 7)),
    ('of = "D(L, x)"\nwrt = "x"\nalong = "A"\nexpr = "A"', "'along' names an input", (13, 10)),
    ('of = "L"\nwrt = "x"\nexpr = "D(D(D(L, x), x), x)"', "D takes two names", (13, 9)),
    ('of = "L"\nwrt = "A"\nupdate = "newton"\nexpr = "A"', "Newton step", (13, 11)),
])
def test_bad_second_derivatives_are_placed(claim, message, place):
    text = ('[[problem]]\nid = "bad"\ninputs = { A = "matrix(m, n)", x = "vector(n)" }\n'
            'graph = """\nr = A @ x\nL = norm2(r)\n"""\n\n[[problem.claim]]\nid = "h"\n'
            + claim + "\n")
    with pytest.raises(DerivError) as err:
        deriv.load(text)
    assert message in err.value.message
    assert (err.value.line, err.value.col) == place
