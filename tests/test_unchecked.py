"""Printed items listed as not checkable: validated by the loader, shown, and counted in the
per-document coverage; and the catalog lists every printed item of its documents."""

from __future__ import annotations

import json
import textwrap

import pytest
from click.testing import CliRunner

from deriv.cli import main
from deriv.errors import DerivError
from deriv.problem import load_text

FILE = textwrap.dedent('''
    [source]
    title = "A sheet"
    file = "sheet.txt"

    [[unchecked]]
    id = "prose-3a"
    section = "part 3(a)"
    kind = "prose"
    reason = "an answer in words"

    [[problem]]
    id = "p"
    inputs = { x = "real" }
    graph = """
    y = x**2
    """

    [[problem.claim]]
    id = "dy/dx"
    of = "y"
    wrt = "x"
    expr = "2*x"

    [[problem.unchecked]]
    id = "fig-1"
    section = "Figure 1"
    kind = "figure"
    printed = "Figure 1: the graph"
    reason = "a drawing the text does not carry"
''')


def test_items_are_loaded_with_their_lines():
    (p,) = load_text(FILE, "sheet.toml")
    assert [(u.id, u.kind, u.line) for u in p.unchecked] == [("prose-3a", "prose", 6),
                                                              ("fig-1", "figure", 25)]
    assert p.unchecked[1].printed == "Figure 1: the graph"


@pytest.mark.parametrize("change, message, line", [
    (('kind = "figure"', 'kind = "drawing"'), "unchecked kind 'drawing' is not one of", 28),
    (('reason = "a drawing the text does not carry"\n', ''), "needs 'reason'", 25),
    (('kind = "figure"', 'kind = "figure"\nwhy = "x"'), "unknown key 'why'", 29),
    (('id = "fig-1"', 'id = "prose-3a"'), "", None),          # ids are per list: allowed
    (('id = "fig-1"', 'id = "a b"'), "may hold only", 26),
    (('printed = "Figure 1: the graph"', 'printed = 3'), "'printed' must be a string", 29),
])
def test_bad_items_are_placed(change, message, line):
    text = FILE.replace(*change)
    if not message:
        load_text(text, "sheet.toml")
        return
    with pytest.raises(DerivError) as err:
        load_text(text, "sheet.toml")
    assert message in err.value.message
    assert err.value.line == line


def test_show_and_coverage(tmp_path):
    path = tmp_path / "sheet.toml"
    path.write_text(FILE)
    shown = CliRunner().invoke(main, ["show", str(path)])
    assert shown.exit_code == 0
    assert "Printed, not checked" in shown.output and "fig-1" in shown.output
    data = json.loads(CliRunner().invoke(main, ["show", str(path), "--format", "json"]).output)
    assert [u["id"] for u in data["unchecked"]] == ["prose-3a", "fig-1"]
    md = CliRunner().invoke(main, ["check", str(path), "--format", "markdown"])
    assert md.exit_code == 0
    assert "Coverage: 1 of 3 printed items checked (33 %); not checkable: 1 answer in words, 1 figure." \
        in md.output
    assert "- `p` `fig-1`, Figure 1 (figure): a drawing the text does not carry" in md.output
    assert "- `prose-3a`, part 3(a) (prose): an answer in words" in md.output


def test_readme_findings_are_what_deriv_prints_over_the_documents():
    """README's "What deriv found in the documents" is generated: regenerate it with
    `deriv check problems/<every file but classic.toml> --format markdown` when the catalog
    changes."""
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent
    files = sorted(str(p) for p in (root / "problems").glob("*.toml") if p.name != "classic.toml")
    order = ["dis-backprop.toml", "dis-backprop-matrix.toml", "notes-backprop.toml",
             "notes-backprop-matrix.toml", "eth-dl-4.toml", "eth-dl-4-matrix.toml",
             "eecs182-dis2.toml", "udl-ch7.toml", "udl-ch7-matrix.toml"]
    files = sorted(files, key=lambda f: order.index(Path(f).name) if Path(f).name in order
                   else len(order))
    md = CliRunner().invoke(main, ["check", *files, "--format", "markdown"])
    assert md.exit_code == 0, md.output
    readme = (root / "README.md").read_text()
    section = readme.split("## What deriv found in the documents\n")[1].split("## Classic")[0]
    generated = section[section.index("### "):].strip()
    assert generated == md.output.strip()
    for doc in md.output.split("\n### ")[0:]:
        assert "Coverage: " in doc
