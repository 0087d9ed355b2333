"""The registry: each primitive's forwards and derivative rules agree with each other and with
an independent reference, and a primitive lives in one entry (softplus is the example)."""

from pathlib import Path

import mpmath as mp
import numpy as np
import pytest
import sympy as sp

import deriv
from deriv import primitives as P
from deriv.problem import load_text
from deriv.program import Values

ELEMENTWISE = [e for e in P.REGISTRY.values() if e.elementwise]


@pytest.mark.parametrize("entry", ELEMENTWISE, ids=lambda e: e.name)
def test_numpy_and_mpmath_forwards_agree(entry):
    rng = np.random.default_rng(0)
    args = [rng.uniform(0.1, 1.9, 50) for _ in range(entry.arity)]     # inside every domain
    batched = entry.numpy(*args)
    for i in range(50):
        point = entry.mpmath(*(mp.mpf(float(a[i])) for a in args))
        assert float(point) == pytest.approx(float(batched[i]), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("entry", [e for e in ELEMENTWISE if e.kinks is None
                                   or e.name in ("relu", "leaky_relu", "maximum", "minimum",
                                                 "Abs")], ids=lambda e: e.name)
def test_partials_match_finite_differences(entry):
    """Away from the kinks, each partial is the slope of the forward."""
    rng = np.random.default_rng(1)
    zs = [sp.Symbol(f"z{k}", real=True) for k in range(entry.arity)]
    for i, rule in enumerate(entry.partials):
        fn = sp.lambdify(zs, rule(*zs), modules=[P.numpy_namespace(), "numpy"])
        for _ in range(20):
            point = [float(v) for v in rng.uniform(0.2, 1.8, entry.arity)]
            if entry.arity == 2:
                point[1] = point[0] * 0.5          # max/min/leaky: off the tie a = b
            h = 1e-6
            up, down = list(point), list(point)
            up[i] += h
            down[i] -= h
            slope = (float(entry.numpy(*map(np.float64, up))) -
                     float(entry.numpy(*map(np.float64, down)))) / (2 * h)
            assert float(np.broadcast_to(fn(*point), ())) == pytest.approx(slope, rel=1e-5,
                                                                            abs=1e-6)


@pytest.mark.parametrize("name", ["exp", "log", "sin", "cos", "tan", "tanh", "Abs"])
def test_partials_of_sympy_functions_say_what_sympy_says(name):
    entry = P.REGISTRY[name]
    z = sp.Symbol("z", positive=True)
    assert sp.simplify(entry.partials[0](z) - sp.diff(entry.cls(z), z)) == 0


def test_the_partials_are_used_by_sympy_too():
    z = sp.Symbol("z", real=True)
    assert sp.diff(P.call("softplus", z), z) == P.call("sigmoid", z)
    assert sp.diff(P.call("relu", z), z) == P.call("indicator", z)


def test_softplus_from_its_one_entry():
    """softplus is added in one place: its entry (and this test)."""
    root = Path(deriv.__file__).parent
    files = [p.relative_to(root).as_posix() for p in root.rglob("*.py")
             if "softplus" in p.read_text()]
    assert files == ["primitives.py"]
    text = ('[[problem]]\nid = "s"\ninputs = { x = "real", W = "matrix(n, n)", v = "vector(n)" }'
            '\ngraph = """\na = softplus(3 * x)\nb = sum(softplus(W @ v))\ny = a + b\n"""\n'
            '[[problem.claim]]\nid = "ok"\nof = "y"\nwrt = "x"\nexpr = "3 * sigmoid(3 * x)"\n'
            '[[problem.claim]]\nid = "W"\nof = "y"\nwrt = "W"\nexpr = "sigmoid(W @ v) @ v.T"\n'
            '[[problem.claim]]\nid = "wrong"\nof = "y"\nwrt = "x"\nexpr = "sigmoid(3 * x)"\n'
            'expect = "fail"\nnote = "a factor 3 lost"\n')
    (p,) = load_text(text, "softplus.toml")
    report = deriv.check(p, expect=True)
    outcomes = {v.claim.id: v.outcome for v in report.verdicts}
    assert outcomes == {"ok": "passed", "W": "passed", "wrong": "xfailed"}
    wrong = next(v for v in report.verdicts if v.claim.id == "wrong")
    assert wrong.diagnosis[0].kind == "constant-multiple"
    values = Values(p, {"x": np.array([-800.0, 0.0, 800.0]), "W": np.zeros((2, 2, 3)),
                        "v": np.zeros((2, 1, 3))}, {"n": 2})
    assert np.all(np.isfinite(values.env[p.graph.symbols["a"]]))      # stable on both tails
    solution = deriv.solve(p, mode="both")
    assert solution.values
