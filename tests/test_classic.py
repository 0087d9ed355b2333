"""The classic derivations, the catalog's second part (problems/classic.toml): standard
exercises written for deriv, each with its known student mistakes and deriv's diagnosis."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

import deriv
from deriv.catalog import bundled_dir, load_catalog
from deriv.findings import KINDS
from deriv.cli import main
from deriv.problem import load_file

CLASSIC = bundled_dir() / "classic.toml"
PROBLEMS = load_file(CLASSIC)
IDS = [p.id for p in PROBLEMS]
# a mistake's note quotes deriv: "… deriv (lost-path, missing-path): keeps only …"
NAMED_KINDS = re.compile(r"deriv \(([a-z-]+(?:, [a-z-]+)*)\):")


def named_kinds(note: str) -> set[str]:
    m = NAMED_KINDS.search(note or "")
    return set(m[1].split(", ")) if m else set()


@pytest.fixture(scope="module")
def report():
    return deriv.check(PROBLEMS, samples=2000, seed=0)


def test_the_classic_part_is_its_own_file_with_its_own_ids():
    assert len(PROBLEMS) >= 12
    assert all(p.id.startswith("classic-") for p in PROBLEMS)
    elsewhere = [p.id for p in load_catalog() if p.id.startswith("classic-")
                 and p.path and not str(p.path).endswith("classic.toml")]
    assert elsewhere == []
    assert set(IDS) <= {p.id for p in load_catalog()}      # found by the catalog
    assert "written for deriv" in PROBLEMS[0].source_title


def test_every_claim_is_printed_and_written_and_every_problem_has_a_mistake():
    for p in PROBLEMS:
        assert all(c.printed and c.expr for c in p.claims), p.id
        mistakes = [c for c in p.claims if c.expect == "fail"]
        assert mistakes, f"{p.id} records no typical mistake"
        for c in mistakes:
            assert named_kinds(c.note) <= set(KINDS), (p.id, c.id)
            assert named_kinds(c.note), (p.id, c.id, "the note names no diagnosis kind")


def test_the_classic_part_checks_clean(report):
    summary = report.summary()
    assert report.exit_code == 0, summary
    assert summary["failed"] == summary["errors"] == summary["xpassed"] == 0
    assert summary["xfailed"] == sum(c.expect == "fail" for p in PROBLEMS for c in p.claims)
    assert summary["passed"] >= 60


def test_every_mistake_fails_with_the_diagnosis_its_note_names(report):
    mistakes = [v for v in report.verdicts if v.claim.expect == "fail"]
    assert len(mistakes) >= len(PROBLEMS)
    for v in mistakes:
        assert v.verdict == "fail", (v.problem, v.claim.id)
        found = {f.kind for f in v.diagnosis}
        assert found == named_kinds(v.claim.note), (v.problem, v.claim.id, found)


def test_a_mistake_is_not_passed_when_it_is_declared_right():
    """The checker is not just echoing `expect`: a mistake declared right is a finding."""
    (p,) = [p for p in PROBLEMS if p.id == "classic-conv1d"]
    text = CLASSIC.read_text()
    start = text.index('id = "classic-conv1d"')
    block = text[text.rindex("[[problem]]", 0, start):text.index("[[problem]]", start)]
    wrong = re.sub(r'expect = "fail"\nnote = .*\n', "", block)
    report = deriv.check(deriv.load("[source]\ntitle = 't'\n" + wrong), samples=500, seed=1)
    assert report.exit_code == 1
    (v,) = [v for v in report.verdicts if v.claim.id == "dL/dx3-kernel-not-flipped"]
    assert v.verdict == "fail" and {f.kind for f in v.diagnosis} == {"swapped"}


@pytest.mark.parametrize("pid", IDS)
def test_every_classic_problem_solves_in_every_mode_and_format(pid):
    runner = CliRunner()
    for mode in ("forward", "reverse"):
        for fmt in ("text", "json", "latex", "markdown"):
            result = runner.invoke(main, ["solve", pid, "--mode", mode, "--format", fmt],
                                   catch_exceptions=False)
            assert result.exit_code == 0, (pid, mode, fmt, result.output[-500:])
            assert result.output.strip(), (pid, mode, fmt)
            if fmt == "json":
                data = json.loads(result.output)
                assert pid in json.dumps(data)
