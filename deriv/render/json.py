"""JSON renderers: stable keys; expressions in deriv's file syntax (one syntax for every kind,
deriv.render.notation.source); a vector or matrix value as {"shape": [r, c], "value": nested
lists}; findings as their fields plus the sentence the terminal shows."""

from __future__ import annotations

import json
import math

import numpy as np

from deriv.findings import KINDS
from deriv.render.notation import source
from deriv.render.words import UnicodeMath, error_reason, sentence


def _num(v):
    if v is None or isinstance(v, str):      # (a value beyond a float is kept as text)
        return v
    if isinstance(v, np.ndarray):
        def nested(a):
            return [nested(x) for x in a] if np.ndim(a) else _num(float(a))
        return {"shape": list(v.shape), "value": nested(v)}
    v = float(v)
    return v if math.isfinite(v) else str(v)


def _expr(e):
    return None if e is None else source(e)


def solution(sol) -> str:
    p = sol.problem

    def step(s, mode):
        return {"target": str(s.target),
                "terms": [{"factors": [str(f) for f in t.factors], "share": _expr(t.local)}
                          for t in s.terms],
                "expr": _expr(sol.shown[(mode, s.target)]),
                "program": f"{s.program_symbol} = {_expr(s.program)}",
                "value": _num(sol.values.get((mode, s.target)))}

    data = {
        "problem": p.id, "title": p.title,
        "point": {k: _num(v) for k, v in sol.point.items()}, "point_source": sol.point_source,
        "sizes": sol.sizes,
        "forward_pass": [{"node": f.name, "expr": _expr(f.expr), "value": _num(f.value)}
                         for f in sol.forward_pass],
        "sweeps": [{"mode": sw.mode, "origin": sw.origin,
                    "steps": [step(s, sw.mode) for s in sw.steps]} for sw in sol.sweeps],
        "results": [{"target": str(r.target), "expr": _expr(r.expr), "value": _num(r.value)}
                    for r in sol.results],
    }
    if sol.omitted:             # inputs whose tangent sweep is left out (too many steps)
        data["omitted_tangent_sweeps"] = list(sol.omitted)
    return json.dumps(data, indent=2, ensure_ascii=False)


def problem(p) -> str:
    """A problem as its file declares it, expressions in deriv's syntax, with places."""
    g = p.graph
    data = {
        "problem": p.id, "title": p.title, "file": p.path, "line": p.line,
        "source": {"title": p.source_title, "file": p.source_file}, "section": p.section,
        "ask": p.ask, "note": p.note, "mode": p.mode, "output": p.output,
        "inputs": {i.name: i.kind for i in p.inputs.values()}, "sizes": list(p.sizes),
        "at": {k: _num(v) for k, v in p.at.items()}, "asks": [str(a) for a in p.asks],
        "graph": [{"node": n, "expr": _expr(g.nodes[n].expr), "line": g.nodes[n].line}
                  for n in g.order],
        "claims": [{"claim": c.id, "kind": c.kind, "of": c.of, "wrt": c.wrt or None,
                    "local": c.local,
                    "layout": c.layout, "printed": c.printed, "expr": c.expr_text,
                    "chain": c.chain_text, "value": c.value_text, "expect": c.expect,
                    "note": c.note, "line": c.expr_line or c.line, "col": c.col}
                   for c in p.claims],
        "unchecked": [{"id": u.id, "section": u.section, "kind": u.kind, "reason": u.reason,
                       "printed": u.printed, "line": u.line} for u in p.unchecked],
    }
    return json.dumps(data, indent=2, ensure_ascii=False)


def finding(f, display) -> dict:
    d = {"kind": f.kind, "message": sentence(f, UnicodeMath(display))}
    if f.derivative is not None:
        d["derivative"] = str(f.derivative)
    for key in ("expr", "printed"):
        if getattr(f, key) is not None:
            d[key] = _expr(getattr(f, key))
    if f.symbols:
        d["symbols"] = list(f.symbols)
    if f.paths:
        d["paths"] = [list(p) for p in f.paths]
    if f.number is not None:
        d["number"] = _num(f.number)
    if f.count is not None:
        d["count"] = f.count
    if f.shapes:
        d["shapes"] = [list(s) for s in f.shapes]
    if f.kept:
        d["kept"] = list(f.kept)
    if f.point:      # a counterexample: the inputs, the claim's value and the true one
        d["point"] = {name: _num(v) for name, v in f.point}
        d["values"] = {"claim": _num(f.values[0]), "truth": _num(f.values[1])}
    return d


def report(rep) -> str:
    """The schema of design.md: claims, missing, summary (and the table of kinds)."""
    displays = {(p.path, p.id): p.display for p in rep.problems}
    lines = {(p.path, p.id): p.line for p in rep.problems}
    claims = []
    for v in rep.verdicts:
        c = v.claim
        d = displays.get((v.file, v.problem))
        claims.append({
            "file": v.file, "line": c.expr_line or c.line, "col": c.col,
            "problem": v.problem, "claim": c.id, "kind": c.kind, "of": c.of,
            "wrt": c.wrt or None,
            "local": c.local, "layout": c.layout, "printed": c.printed, "expr": c.expr_text,
            "chain": c.chain_text, "verdict": v.verdict, "outcome": v.outcome,
            "expect": c.expect, "note": c.note, "samples": v.samples,
            "undefined": v.undefined, "near_kink": v.near_kink, "singular": v.singular,
            "diagnosis": [finding(f, d) for f in v.diagnosis],
            "equals": [str(f.derivative) for f in v.diagnosis
                       if f.kind == "mislabelled" and f.derivative is not None],
            "coverage": {"branches_seen": v.branches_seen, "branches": v.branches},
            "overflow": v.overflow, "precise": v.precise, "dropped_sizes": list(v.dropped),
            **({"reason": error_reason(v)} if v.verdict == "error" else
               {"scope": v.reason} if v.reason else {}),
        })
    from deriv.batch import file_rows
    errors = []
    for i in rep.bad_inputs:
        e = i.error
        errors.append({"file": (e.file if e is not None else None) or i.file,
                       "line": e.line if e is not None else None,
                       "col": e.col if e is not None else None,
                       "severity": "error" if e is not None else "warning",
                       "message": e.message if e is not None else i.warning})
    data = {"claims": claims,
            "missing": [{"file": m.file, "line": lines.get((m.file, m.problem)), "col": None,
                         "problem": m.problem, "derivative": str(m.derivative)}
                        for m in rep.missing],
            "errors": errors, "files": file_rows(rep),
            "summary": rep.summary(), "kinds": KINDS}     # (no time: output is a function
                                                           # of the input and the seed only)
    return json.dumps(data, indent=2, ensure_ascii=False)
