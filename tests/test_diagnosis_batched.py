"""Candidates compared many at once (deriv.diagnose's screened_all and matches_all) give the
answers, and count the trials, that comparing them one by one gives."""

from __future__ import annotations

import numpy as np
import pytest

import deriv
from deriv import diagnose
from deriv.checker import Options, ProblemCheck
from deriv.diagnose import MAX_TRIALS, Diagnosis


def diagnosis(problem_id: str, claim_id: str) -> Diagnosis:
    problem = deriv.load(problem_id)
    claim = next(c for c in problem.claims if c.id == claim_id)
    pc = ProblemCheck(problem, Options())
    return Diagnosis(pc, claim, claim.expr, pc.pairs(claim, claim.expr))


def candidates(d: Diagnosis) -> list:
    """Right and wrong ones: the claim itself (at whatever points it is asked), the truth,
    its double, other derivatives, one that fails to evaluate and one of another shape."""
    claim = d.claim

    def itself(batch, k):
        return d.pc.evaluate(batch.values, d.written)

    def broken(batch, k):
        raise KeyError("no such node")

    def flat(batch, k):
        return np.zeros(3)

    def wrong_at(i):          # the claim but at one point (past the screening points: i > 32)
        def value(batch, k):
            v = np.array(itself(batch, k), dtype=float)
            v[..., i % v.shape[-1]] += 1.0 + np.abs(v[..., i % v.shape[-1]])
            return v
        return value
    others = [d.truth_of(of, wrt) for of in d.numerators()[:3] for wrt in d.denominators()[:6]
              if d.graph.depends(of, wrt)]
    return [d.truth_of(claim.of, claim.wrt), itself, broken, flat, wrong_at(5),
            lambda b, k: 2 * itself(b, k), *others, wrong_at(1500), itself]


@pytest.mark.parametrize("problem_id, claim_id", [
    ("classic-batchnorm", "dL/dx1-stats-constant"),
    ("classic-attention", "dL/ds1-no-normaliser"),
    ("classic-softmax-ce-vector", "dL/dz-sign")])
@pytest.mark.parametrize("spent", [0, MAX_TRIALS - 3])
def test_screening_together_says_what_screening_one_by_one_says(problem_id, claim_id, spent):
    one, many = diagnosis(problem_id, claim_id), diagnosis(problem_id, claim_id)
    one.trials = many.trials = spent          # (near the bound, the bound must bite alike)
    tried = candidates(one)
    alone = [one.screened(c) for c in tried]
    together = list(many.screened_all(tried))
    assert together == alone
    assert many.trials == one.trials
    if not spent:
        assert alone[1] and alone[-1] and not any(alone[0:1] + alone[2:5])


@pytest.mark.parametrize("problem_id, claim_id", [
    ("classic-layernorm", "dL/dgamma1-summed"),
    ("classic-rnn", "dL/dh1-tanh-lost"),
    ("classic-softmax-ce-vector", "dL/dz-sign")])
@pytest.mark.parametrize("spent", [0, MAX_TRIALS - 3])
def test_comparing_together_says_what_comparing_one_by_one_says(problem_id, claim_id, spent):
    one, many = diagnosis(problem_id, claim_id), diagnosis(problem_id, claim_id)
    one.trials = many.trials = spent
    truth = (lambda b, k: one.pairs[k][2])
    tests = [(c, None) for c in candidates(one)] + [
        (lambda b, k: -one.pairs[k][1], truth),              # right for a negated claim only
        (lambda b, k: one.pairs[k][2], truth),               # the truth against itself
        (lambda b, k: one.pairs[k][1], None)]                # the claim against itself
    alone = [one.matches(c, against) for c, against in tests]
    together = list(many.matches_all(tests))
    assert together == alone
    assert many.trials == one.trials
    if not spent:
        assert alone[-1] and alone[-2] and alone[1] and not any(alone[0:1] + alone[2:5])
        assert not alone[-5]                  # wrong at one point only, past the first ones


def test_the_screening_points_are_shared_by_a_problems_claims():
    problem = deriv.load("classic-batchnorm")
    pc = ProblemCheck(problem, Options())
    first, second = (Diagnosis(pc, c, c.expr, pc.pairs(c, c.expr)) for c in problem.claims[:2])
    assert first.screen() and [r[0] for r in first.screen()] == [r[0] for r in second.screen()]
    assert diagnose._prefix(pc, pc.batches[0]) is first.screen()[0][0]
