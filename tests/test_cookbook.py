"""The Matrix Cookbook's derivative chapter (tests/fixtures/cookbook/derivatives.toml): 47
identities of traces, determinants, inverses, linear and quadratic forms, each with wrong
twins (transposed, symmetric-only, sign, factor, product order, lost path). Every correct
formula passes and every twin fails on each of 50 seeds; at the default seed each twin's
diagnosis is the one its note records."""

from pathlib import Path

import pytest

import deriv
from deriv import checker
from deriv.checker import Options, ProblemCheck

FILE = Path(__file__).parent / "fixtures" / "cookbook" / "derivatives.toml"
SEEDS = range(50)
SAMPLES = 200                 # 50 points a size setting: the verdicts, not the diagnoses, are
                              # what this sweep holds (the default seed checks those)


@pytest.fixture(scope="module")
def problems():
    return deriv.load_all(str(FILE))


@pytest.fixture(scope="module")
def report(problems):
    return deriv.check(problems, samples=2000, seed=0)


def test_the_file_is_large_and_covers_the_kinds(problems):
    assert len(problems) >= 40
    twins = [c for p in problems for c in p.claims if c.expect == "fail"]
    assert len(twins) >= 80
    named = {c.id for c in twins}
    assert {"transposed", "symmetric-only", "sign", "factor", "product-order",
            "lost-path"} <= named


@pytest.mark.parametrize("part", range(5))
def test_every_identity_passes_and_every_twin_fails_on_each_seed(problems, part):
    wrong = []
    for seed in SEEDS[part::5]:
        for problem in problems:
            pc = ProblemCheck(problem, Options(SAMPLES, seed))
            pc.diagnosed = checker.MAX_DIAGNOSED     # verdicts only: no explanation sought
            for claim in problem.claims:
                verdict = pc.check(claim).verdict
                if verdict != ("fail" if claim.expect == "fail" else "pass"):
                    wrong.append((seed, problem.id, claim.id, verdict))
    assert not wrong


def test_each_twin_has_the_diagnosis_its_note_records(report):
    assert report.exit_code == 0
    for v in report.verdicts:
        if v.claim.expect == "fail":
            kinds = v.claim.note.split("deriv (", 1)[1].split(")", 1)[0].split(", ")
            assert [f.kind for f in v.diagnosis] == kinds, (v.problem, v.claim.id)


def test_product_order_and_lost_factor_twins_are_named_so(report):
    by_kind = {}
    for v in report.verdicts:
        if v.claim.expect == "fail":
            by_kind.setdefault(v.claim.id, []).append(v.diagnosis[0].kind)
    assert set(by_kind["product-order"]) == {"product-order"}
    factor_two = [v for v in report.verdicts if v.claim.id == "factor" and
                  v.diagnosis[0].kind == "constant-multiple" and v.diagnosis[0].number == 0.5]
    assert len(factor_two) >= 4
    # one explanation whatever the graph's form: never a "lost path" or a "missing term"
    # beside the lost factor (XᵀX reaches X twice through one edge: no path of its own is lost)
    assert all(not {"lost-path", "missing-term"} & {f.kind for f in v.diagnosis}
               for v in factor_two)
