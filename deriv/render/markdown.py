"""Markdown for notebooks and READMEs: `$$ … $$` per step, tables for the forward pass.

Math goes through the LaTeX printer (deriv.render.latex), so GitHub, Jupyter and MathJax show
the documents' notation. Like every renderer: data in, text out.
"""

from __future__ import annotations

from collections import Counter, OrderedDict

from deriv.names import numerator, pretty
from deriv.render import latex
from deriv.render.notation import number
from deriv.render.words import claim_label, error_reason, omitted_tangents, sentence

_SPECIAL = "\\`*_[]<>|$#"


def escape(text: str) -> str:
    """Plain text that Markdown (and GitHub's math) will not reinterpret."""
    return "".join("\\" + ch if ch in _SPECIAL else ch for ch in " ".join(str(text).split()))


def code(text: str) -> str:
    """An inline code span that survives backticks in `text`."""
    text = " ".join(str(text).split())
    fence = "`"
    while fence in text:
        fence += "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def inline(tex: str) -> str:
    """$…$ safe inside a table cell (a bare | would end the cell)."""
    return "$" + tex.replace("|", r"\vert ") + "$"


def display(tex: str) -> str:
    return "$$\n" + tex + "\n$$"


def step(lhs: str, parts: list[str]) -> str:
    """One step: `lhs = a = b = c` on a line, or an `aligned` block when it is long."""
    wrapped = latex.row(lhs, parts)
    if "\\\\" not in wrapped:
        return wrapped.replace(" &= ", " = ", 1)
    return "\\begin{aligned}\n" + wrapped + "\n\\end{aligned}"


def table(header: list[str], rows: list[list[str]], align: str | None = None) -> str:
    align = align or "l" * len(header)
    marks = {"l": ":--", "r": "--:", "c": ":-:"}
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join(marks[a] for a in align) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _header(p, level: str = "###") -> list[str]:
    out = [f"{level} {code(p.id)} · {escape(p.title)}", ""]
    meta = []
    if p.source_title or p.section:
        meta.append("*Source:* " + escape(p.source_title) +
                    (f" · {escape(p.section)}" if p.section else ""))
    if p.ask:
        meta.append("*Asks:* " + escape(p.ask))
    return out, meta


def _point(values: dict[str, float], display_names) -> str:
    return ", ".join(inline(f"{latex.name(k, display_names)} = {latex.number(v)}")
                     for k, v in values.items())


def solution(sol, level: str = "###") -> str:
    p = sol.problem
    d = p.display
    out, meta = _header(p, level)
    meta.append(f"*Point:* {_point(sol.point, d)} ({escape(sol.point_source)})")
    out.append("  \n".join(meta))
    sub = level + "#"
    out += ["", f"{sub} Forward pass", ""]
    out.append(table(["node", "definition", "value"],
                     [[inline(latex.name(f.name, d)), inline(latex.math(f.expr, d)),
                       number(f.value)] for f in sol.forward_pass], "llr"))
    for sweep in sol.sweeps:
        if sweep.mode == "reverse":
            title = f"Reverse mode: adjoints {numerator(sweep.origin, d)}/∂·, output to inputs"
        else:
            title = f"Forward mode: tangents ∂·/∂{pretty(sweep.origin, d)}, input to output"
        out += ["", f"{sub} {escape(title)}", ""]
        rows = latex.sweep_parts(sol, sweep)
        out.append("\n\n".join(display(step(lhs, parts)) for lhs, parts in rows)
                   or "*(nothing to propagate)*")
    if sol.omitted:
        out += ["", escape(omitted_tangents(sol, lambda n: pretty(n, d)))]
    if sol.results:
        out += ["", f"{sub} Result", ""]
        out.append("\n\n".join(display(step(lhs, parts))
                               for lhs, parts in latex.result_parts(sol)))
    return "\n".join(out) + "\n"


def problem(p, level: str = "###") -> str:
    """A problem as `deriv show` prints it: question, inputs, graph, claims as printed."""
    d = p.display
    out, meta = _header(p, level)
    inputs = ", ".join(inline(latex.name(i.name, d)) + f" ({i.kind})" for i in p.inputs.values())
    meta.append(f"*Inputs:* {inputs}")
    if p.at:
        meta.append(f"*Point:* {_point(p.at, d)}")
    meta.append(f"*Output:* {inline(latex.name(p.output, d))}; *mode:* {p.mode}")
    out.append("  \n".join(meta))
    out += ["", latex.problem_math(p)]
    if p.asks:
        out += ["", "*Derivatives asked:* " +
                ", ".join(inline(latex.partial(a.of, a.wrt, d)) for a in p.asks)]
    if p.claims:
        out += ["", f"{len(p.claims)} claim{'s' * (len(p.claims) != 1)} as printed:", ""]
        for c in p.claims:
            target = claim_label(c, latex.LatexMath(d)) or (
                inline(latex.name(c.of, d)) + " (value)" if c.is_value
                else inline(latex.partial(c.of, c.wrt, d)) + (" (local)" if c.local else ""))
            flag = " — known erratum" if c.expect == "fail" else ""
            out.append(f"- {code(c.id)} {target}{flag}: {code(_short(c.printed))}")
    if p.unchecked:
        out += ["", f"{len(p.unchecked)} printed item{'s' * (len(p.unchecked) != 1)} "
                    "not checked:", ""]
        for u in p.unchecked:
            out.append(f"- {code(u.id)} {escape(u.section)} ({escape(u.kind)}): "
                       f"{escape(u.reason)}")
    return "\n".join(out) + "\n"


# --- a check Report ----------------------------------------------------------------------------
def _short(text: str, limit: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


_LABEL = {"xfailed": "known erratum", "failed": "**erratum (not yet marked in the catalog)**",
          "xpassed": "**marked as an erratum, but passes**", "error": "**error**"}


_KIND_WORDS = {"figure": ("figure", "figures"), "prose": ("answer in words", "answers in words"),
               "no-solution": ("question printed without a solution",
                               "questions printed without a solution"),
               "garbled": ("garbled line", "garbled lines"),
               "approximation": ("approximation", "approximations"),
               "definition": ("definition", "definitions"),
               "not-expressible": ("statement deriv's claims cannot write",
                                   "statements deriv's claims cannot write")}


def _kind_count(kind: str, n: int) -> str:
    one, many = _KIND_WORDS.get(kind, (kind, kind))
    return f"{n} {one if n == 1 else many}"


def report(rep, problems=None, level: str = "###") -> str:
    """Per document: claims checked, errata found, each with deriv's diagnosis.

    Deterministic (no timings), so the README section can be regenerated and diffed.
    """
    by_id = {p.id: p for p in problems or []}
    documents: OrderedDict[str, dict] = OrderedDict()

    def doc_of(problem_id: str) -> dict:
        p = by_id.get(problem_id)
        key = p.source_file or p.source_title if p else problem_id
        if key not in documents:
            documents[key] = {"title": (p.source_title if p else "") or problem_id,
                              "file": p.source_file if p else "", "problems": [],
                              "verdicts": [], "missing": []}
        return documents[key]

    for p in problems or []:
        doc = doc_of(p.id)
        doc["problems"].append(p.id)
    for v in rep.verdicts:
        doc = doc_of(v.problem)
        if v.problem not in doc["problems"]:
            doc["problems"].append(v.problem)
        doc["verdicts"].append(v)
    for m in rep.missing:
        doc_of(m.problem)["missing"].append(m)

    out: list[str] = []
    total_claims = total_errata = total_unchecked = 0
    for doc in documents.values():
        verdicts = doc["verdicts"]
        errata = [v for v in verdicts if v.verdict == "fail"]
        others = [v for v in verdicts if v.verdict != "fail" and v.outcome != "passed"]
        total_claims += len(verdicts)
        total_errata += len(errata)
        head = f"{level} {escape(doc['title'])}"
        if doc["file"]:
            head += f" ({code(doc['file'])})"
        out += [head, ""]
        counts = [_plural(len(verdicts), "claim") + " checked in " +
                  _plural(len(doc["problems"]), "problem"),
                  f"{sum(v.verdict == 'pass' for v in verdicts)} correct",
                  ("no errata" if not errata else _plural(len(errata), "erratum")
                   .replace("erratums", "errata") + " found")]
        out += [", ".join(counts) + ".", ""]
        unchecked = [(pid, u) for pid in doc["problems"] if pid in by_id
                     for u in by_id[pid].unchecked]
        printed = len(verdicts) + len(unchecked)
        if printed:
            kinds = Counter(u.kind for _, u in unchecked)
            out += [f"Coverage: {len(verdicts)} of {_plural(printed, 'printed item')} checked "
                    f"({100 * len(verdicts) / printed:.0f} %)" +
                    ("; not checkable: " + ", ".join(_kind_count(k, n) for k, n in kinds.items())
                     if unchecked else "") + ".", ""]
        total_unchecked += len(unchecked)
        for v in errata + others:
            d = by_id[v.problem].display if v.problem in by_id else None
            c = v.claim
            target = claim_label(c, latex.LatexMath(d)) or (
                inline(latex.name(c.of, d)) + " (value)" if c.is_value
                else inline(latex.partial(c.of, c.wrt, d)) + (" (local)" if c.local else ""))
            where = by_id[v.problem].section if v.problem in by_id else ""
            line = f"- {code(v.problem)} {code(c.id)} {target}"
            if where:
                line += f", {escape(where)}"
            line += f" — {_LABEL.get(v.outcome, v.outcome)}"
            out.append(line)
            if c.printed:
                out.append(f"  - printed: {code(_short(c.printed))}")
            for f in v.diagnosis:
                out.append(f"  - {f.kind}: {sentence(f, latex.LatexMath(d))}")
            if v.verdict == "error":
                out.append(f"  - {escape(error_reason(v))}")
        if errata or others:
            out.append("")
        if unchecked:
            out.append("Printed but not checked:")
            out += [f"- {'' if u.whole_file else code(pid) + ' '}{code(u.id)}, "
                    f"{escape(u.section)} ({escape(u.kind)}): {escape(u.reason)}"
                    for pid, u in unchecked]
            out.append("")
        if doc["missing"]:
            out.append("Asked for but not printed: " + ", ".join(
                inline(latex.partial(m.derivative.of, m.derivative.wrt,
                                     by_id[m.problem].display if m.problem in by_id else None))
                for m in doc["missing"]) + ".")
            out.append("")
    summary = rep.summary()
    parts = [f"{summary[k]} {k}" for k in ("passed", "failed", "warnings", "xfailed", "xpassed",
                                           "errors")
             if summary[k]]
    out.append(f"**In all:** {_plural(total_claims, 'claim')} in {_plural(len(documents), 'document')}, "
               f"{total_errata} errat{'um' if total_errata == 1 else 'a'} found "
               f"({', '.join(parts) or 'no claims'})" +
               (f"; {total_unchecked} more printed items listed as not checkable"
                if total_unchecked else "") + ".")
    return "\n".join(out) + "\n"
