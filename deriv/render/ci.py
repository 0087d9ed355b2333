"""What a course's CI reads: GitHub workflow annotations and JUnit XML.

GitHub: one `::error file=…,line=…,col=…,title=…::message` line per unexpected outcome and bad
input, `::warning` for what only warns; values escaped as GitHub's runner unescapes them (data:
% CR LF; properties also : and ,). JUnit: one <testsuite> per file and one <testcase> per claim,
with the attributes and elements the JUnit schema (Ant's, as Jenkins reads it) requires; built
with xml.etree, so every value is escaped.
"""

from __future__ import annotations

import platform
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from deriv.names import partial
from deriv.render.safe import clean, short_path
from deriv.render.words import UnicodeMath, claim_label, error_reason, sentence


def _display(rep) -> dict:
    return {(p.path, p.id): p.display for p in rep.problems}


def explanation(v, display) -> str:
    """What is wrong with a claim, as lines of plain text (the terminal's words)."""
    if v.outcome == "error":
        return error_reason(v)
    if v.outcome == "xpassed":
        return f"marked as a known erratum ({v.claim.note}) but it passes"
    lines = [sentence(f, UnicodeMath(display)) for f in v.diagnosis]
    if v.claim.printed:
        lines.append(f"printed: {v.claim.printed}")
    return "\n".join(lines) or "the claim disagrees with the derivative"


def target_text(v, display) -> str:
    c = v.claim
    return claim_label(c, UnicodeMath(display)) or (
        f"{c.of} (value)" if c.is_value else partial(c.of, c.wrt, display))


# --- GitHub workflow commands ------------------------------------------------------------------
def escape_data(text: str) -> str:
    return clean(str(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(level: str, message: str, file=None, line=None, col=None, title=None) -> str:
    props = [f"{k}={escape_property(v)}" for k, v in
             (("file", file), ("line", line), ("col", col), ("title", title)) if v is not None]
    return f"::{level}{' ' + ','.join(props) if props else ''}::{escape_data(message)}"


def github(rep, summary: str) -> str:
    displays = _display(rep)
    out = []
    for i in rep.inputs:
        if i.error is not None:
            e = i.error
            out.append(annotation("error", e.message, short_path(e.file or i.file), e.line, e.col,
                                  "deriv: bad input"))
        elif i.warning:
            out.append(annotation("warning", f"{i.file}: {i.warning}", title="deriv: no input"))
    for v in rep.verdicts:
        c = v.claim
        d = displays.get((v.file, v.problem))
        where = dict(file=short_path(v.file or ""), line=c.expr_line or c.line, col=c.col)
        name = f"{v.problem} {c.id}"
        if v.unexpected:
            label = {"failed": "FAILED", "xpassed": "XPASS", "error": "ERROR"}[v.outcome]
            out.append(annotation("error", f"{target_text(v, d)}: {explanation(v, d)}",
                                  title=f"deriv: {name} {label}", **where))
        elif v.outcome == "warning":      # off, but no asked derivative can see it
            out.append(annotation("warning", f"{target_text(v, d)}: {explanation(v, d)}",
                                  title=f"deriv: {name} WARNING", **where))
        elif v.partial:
            out.append(annotation("warning", f"{target_text(v, d)} passes, but only "
                                  f"{v.branches_seen} of {v.branches} kink sides were sampled",
                                  title=f"deriv: {name} partly covered", **where))
    lines = {(p.path, p.id): p.line for p in rep.problems}
    for m in rep.missing:
        out.append(annotation("warning", f"no claim covers {m.derivative}", short_path(m.file or ""),
                              lines.get((m.file, m.problem)), None,
                              f"deriv: {m.problem} missing"))
    out.append(clean(summary))
    return "\n".join(out) + "\n"


# --- JUnit XML -----------------------------------------------------------------------------------
def _lines(text: str) -> str:
    return "\n".join(clean(line) for line in text.split("\n"))


def _testcase(suite, v, display):
    c = v.claim
    case = ET.SubElement(suite, "testcase", {
        "name": clean(c.id), "classname": clean(f"{Path(v.file or '').stem}.{v.problem}"),
        "time": "0", "file": clean(short_path(v.file or "")), "line": str(c.expr_line or c.line or 0)})
    if v.outcome in ("failed", "xpassed"):
        text = explanation(v, display)
        tag = ET.SubElement(case, "failure", {"message": clean(text.split("\n")[0]),
                                              "type": v.outcome})
        tag.text = _lines(f"{target_text(v, display)}\n{text}")
    elif v.outcome == "error":
        tag = ET.SubElement(case, "error", {"message": clean(error_reason(v)),
                                            "type": "too-few-points"})
        tag.text = clean(error_reason(v))
    elif v.outcome == "xfailed":
        ET.SubElement(case, "skipped", {"message": clean(f"known erratum: {c.note}"),
                                        "type": "xfail"})


def junit(rep) -> str:
    displays = _display(rep)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    host = platform.node() or "localhost"
    root = ET.Element("testsuites", {"name": "deriv"})
    files: dict[str, list] = {i.file: [] for i in rep.inputs}
    for v in rep.verdicts:
        files.setdefault(v.file, []).append(v)
    errors_by_file = {i.file: i for i in rep.inputs if i.bad}
    totals = dict(tests=0, failures=0, errors=0, skipped=0)
    for k, (file, verdicts) in enumerate(files.items()):
        counts = dict(
            tests=len(verdicts) + (file in errors_by_file),
            failures=sum(v.outcome in ("failed", "xpassed") for v in verdicts),
            errors=sum(v.outcome == "error" for v in verdicts) + (file in errors_by_file),
            skipped=sum(v.outcome == "xfailed" for v in verdicts))
        suite = ET.SubElement(root, "testsuite", {
            "name": clean(file), "id": str(k), "package": "deriv", "timestamp": stamp,
            "hostname": clean(host), "time": "0", **{a: str(n) for a, n in counts.items()}})
        ET.SubElement(suite, "properties")
        if file in errors_by_file:
            bad = errors_by_file[file]
            case = ET.SubElement(suite, "testcase", {"name": "load", "classname": clean(
                Path(file).stem), "time": "0", "file": clean(file)})
            message = str(bad.error) if bad.error is not None else f"{file}: {bad.warning}"
            ET.SubElement(case, "error", {"message": clean(message), "type": "bad-input"}
                          ).text = clean(message)
        for v in verdicts:
            _testcase(suite, v, displays.get((v.file, v.problem)))
        ET.SubElement(suite, "system-out")
        ET.SubElement(suite, "system-err")
        for a in totals:
            totals[a] += counts[a]
    root.attrib.update({a: str(n) for a, n in totals.items()})
    root.attrib["time"] = f"{rep.seconds:.3f}"
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
