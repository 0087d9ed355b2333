"""What a command does before the first problem is touched (issues 14 and 15: every command is
a fresh process): an id is looked up in the one file that holds it, not the whole catalog, and
what SymPy's import and the loading made is frozen, never traversed by the collector again."""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from deriv import batch, catalog
from deriv import lookup as lookup_module
from deriv.catalog import by_id, catalog_files, load_catalog, resolve
from deriv.cli import main
from deriv.errors import DerivError
from deriv.render import json as render_json

ONE = textwrap.dedent('''\
    [[problem]]
    id = "{id}"
    inputs = {{ x = "real" }}
    graph = "y = exp(x) * {k}"

    [[problem.claim]]
    id = "dy/dx"
    of = "y"
    wrt = "x"
    expr = "{k} * exp(x)"
''')


def lookup(target, directory=None):
    return lookup_module.lookup(target, catalog_files(directory))


def _counting(monkeypatch) -> list:
    """The files deriv.catalog and deriv.lookup load, in order."""
    loaded = []
    real = catalog.load_file

    def load_file(path, from_printed=False):
        loaded.append(str(path))
        return real(path, from_printed)
    monkeypatch.setattr(catalog, "load_file", load_file)
    monkeypatch.setattr(lookup_module, "load_file", load_file)
    return loaded


def test_an_id_is_the_problem_the_whole_catalog_gives():
    whole = load_catalog()
    by_file: dict[str, list] = {}
    for p in whole:
        by_file.setdefault(p.path, []).append(p)
    ends = {q.id: q for ps in by_file.values() for q in (ps[0], ps[-1])}
    for problem in ends.values():         # the first and the last problem of every file
        (found,) = lookup(problem.id)
        assert found.path == problem.path
        assert render_json.problem(found) == render_json.problem(problem)


def test_an_id_loads_only_the_file_that_holds_it(monkeypatch):
    loaded = _counting(monkeypatch)
    (p,) = resolve(["problem-7.1"])
    assert p.id == "problem-7.1"
    assert len(loaded) == 1 and loaded[0].endswith("udl-ch7.toml")
    loaded.clear()
    plan = batch.collect(["problem-7.12", "classic-rnn"])
    assert [p.id for p in plan.problems] == ["problem-7.12", "classic-rnn"]
    assert len(loaded) == 2


def test_a_missing_id_still_gets_the_catalogs_hint(monkeypatch):
    loaded = _counting(monkeypatch)
    with pytest.raises(DerivError, match="did you mean problem-7.1"):
        resolve(["problem-7"])
    assert len(loaded) > 1                # the whole catalog was read to say it


def test_an_id_in_two_files_is_still_an_error(tmp_path):
    (tmp_path / "a.toml").write_text(ONE.format(id="p", k=2))
    (tmp_path / "b.toml").write_text(ONE.format(id="p", k=3))
    assert lookup("p", tmp_path) is None
    with pytest.raises(DerivError, match="also defined in"):
        resolve(["p"], tmp_path)


def test_an_id_spelled_with_a_toml_escape_is_found(tmp_path):
    (tmp_path / "a.toml").write_text(ONE.format(id="p-1", k=2))
    (tmp_path / "b.toml").write_text(ONE.format(id="q\\u002d1", k=3)
                                     + ONE.format(id="r\\\n  -1", k=4).replace('"r', '"""r', 1)
                                     .replace('-1"', '-1"""', 1))
    (q,) = lookup("q-1", tmp_path)
    (r,) = lookup("r-1", tmp_path)
    assert q.path.endswith("b.toml") and r.path.endswith("b.toml")
    assert [p.id for p in load_catalog(tmp_path)] == ["p-1", "q-1", "r-1"]


def test_an_unreadable_catalog_is_left_to_the_whole_load(tmp_path):
    assert lookup("p", tmp_path / "none") is None
    (tmp_path / "a.toml").write_text(ONE.format(id="p", k=2))
    (tmp_path / "b.toml").write_text("[[problem]\n")
    assert lookup("p", tmp_path) is None
    with pytest.raises(DerivError, match="invalid TOML"):
        resolve(["p"], tmp_path)


def test_solve_by_id_prints_what_it_printed_from_the_whole_catalog(monkeypatch):
    runner = CliRunner()
    fast = runner.invoke(main, ["solve", "problem-7.12", "--format", "json"])
    monkeypatch.setattr(catalog, "lookup", lambda *a, **k: None)      # the whole catalog
    whole = runner.invoke(main, ["solve", "problem-7.12", "--format", "json"])
    assert fast.exit_code == whole.exit_code == 0
    assert fast.output == whole.output
    assert by_id(load_catalog(), "problem-7.12")[0].title in fast.output


FRESH = """
import gc, sys
import deriv.cli
deriv.cli._import_frozen()
imported = gc.get_freeze_count()
sys.argv = ["deriv", *sys.argv[1:]]
try:
    deriv.cli.main()
except SystemExit:
    pass
print(imported, gc.get_freeze_count(), gc.isenabled())
"""


def test_a_fresh_command_freezes_what_its_import_and_its_loading_made(tmp_path):
    path = tmp_path / "a.toml"
    path.write_text(ONE.format(id="p", k=2))
    out = subprocess.run([sys.executable, "-c", FRESH, "check", "-q", str(path)],
                         capture_output=True, text=True, cwd=Path(__file__).parent.parent)
    imported, total, enabled = out.stdout.split()[-3:]
    assert int(imported) > 50_000                 # SymPy's and NumPy's objects
    assert int(total) > int(imported)             # and the loaded problem's
    assert enabled == "True"                      # the collector runs for everything else


def test_a_callers_process_keeps_its_collector(tmp_path):
    path = tmp_path / "a.toml"
    path.write_text(ONE.format(id="p", k=2))
    frozen = gc.get_freeze_count()
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.exit_code == 0
    assert gc.get_freeze_count() == frozen and gc.isenabled()
