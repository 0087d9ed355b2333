"""JSON renderers: stable keys, plain strings for expressions (SymPy's own syntax)."""

from __future__ import annotations

import json
import math


def _num(v):
    if v is None:
        return None
    return v if math.isfinite(v) else str(v)


def solution(sol) -> str:
    p = sol.problem

    def step(s, mode):
        return {"target": str(s.target),
                "terms": [{"factors": [str(f) for f in t.factors], "expr": str(t.expr)}
                          for t in s.terms],
                "expr": str(s.expr), "program": f"{s.program_symbol} = {s.program}",
                "value": _num(sol.values[(mode, s.target)])}

    data = {
        "problem": p.id, "title": p.title, "point": sol.point, "point_source": sol.point_source,
        "forward_pass": [{"node": f.name, "expr": str(f.expr), "value": _num(f.value)}
                         for f in sol.forward_pass],
        "sweeps": [{"mode": sw.mode, "origin": sw.origin,
                    "steps": [step(s, sw.mode) for s in sw.steps]} for sw in sol.sweeps],
        "results": [{"target": str(r.target), "expr": str(r.expr), "in_inputs": str(r.in_inputs),
                     "value": _num(r.value)} for r in sol.results],
    }
    return json.dumps(data, indent=2, ensure_ascii=False)


def report(rep) -> str:
    """The schema of design.md: claims, missing, summary."""
    claims = []
    for v in rep.verdicts:
        c = v.claim
        claims.append({
            "problem": v.problem, "claim": c.id, "of": c.of, "wrt": c.wrt or None,
            "local": c.local, "printed": c.printed, "expr": c.expr_text, "chain": c.chain_text,
            "verdict": v.verdict, "outcome": v.outcome, "expect": c.expect, "note": c.note,
            "samples": v.samples, "undefined": v.undefined, "near_kink": v.near_kink,
            "diagnosis": [f.as_dict() for f in v.diagnosis],
            "equals": [f.equals for f in v.diagnosis if f.equals],
            "coverage": {"branches_seen": v.branches_seen, "branches": v.branches},
            **({"reason": v.reason} if v.reason else {}),
        })
    data = {"claims": claims,
            "missing": [{"problem": m.problem, "derivative": m.derivative} for m in rep.missing],
            "summary": rep.summary(), "seconds": round(rep.seconds, 3)}
    return json.dumps(data, indent=2, ensure_ascii=False)
