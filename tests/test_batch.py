"""Many files at once (issue 15): a TA's folder and a course's CI. The CLI through CliRunner,
the library (deriv.batch, deriv.selection, deriv.config) directly."""

from __future__ import annotations

import io
import json
import re
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from deriv import batch
from deriv.checker import Options, check
from deriv.cli import main
from deriv.errors import DerivError
from deriv.problem import load_text
from deriv.selection import Selection

FIXTURES = Path(__file__).parent / "fixtures"

GOOD = textwrap.dedent('''\
    [[problem]]
    id = "chain"
    inputs = { x = "real" }
    graph = """
    f = exp(x)
    y = f**2
    """

    [[problem.claim]]
    id = "dy/df"
    of = "y"
    wrt = "f"
    expr = "2*f"

    [[problem.claim]]
    id = "dy/dx"
    of = "y"
    wrt = "x"
    expr = "2*f*exp(x)"
''')

WRONG = GOOD.replace('expr = "2*f*exp(x)"', 'expr = "f*exp(x)"')
KNOWN = WRONG.replace('expr = "f*exp(x)"',
                      'expr = "f*exp(x)"\nexpect = "fail"\nnote = "a factor 2 lost"')
BROKEN = GOOD.replace("y = f**2", "y = f**2 + q")       # graph line 6 names no node

MATRIX = textwrap.dedent('''\
    [[problem]]
    id = "lsq"
    inputs = { X = "matrix(m, n)", w = "vector(n)" }
    graph = """
    r = X @ w
    L = norm2(r)
    """

    [[problem.claim]]
    id = "dL/dw"
    of = "L"
    wrt = "w"
    expr = "2 * X.T @ r"

    [[problem.claim]]
    id = "dL/dw-shape"
    of = "L"
    wrt = "w"
    expr = "2 * X @ r"
''')


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def invoke(*args, cwd: Path | None = None, monkeypatch=None):
    if cwd is not None:
        monkeypatch.chdir(cwd)
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


# --- batch checking -----------------------------------------------------------------------------
def test_a_bad_file_is_reported_and_the_others_still_checked(tmp_path):
    good = write(tmp_path, "a.toml", GOOD)
    bad = write(tmp_path, "b.toml", BROKEN)
    wrong = write(tmp_path, "c.toml", WRONG)
    result = invoke("check", good, bad, wrong)
    assert result.exit_code == 2
    assert re.search(re.escape(str(bad)) + r":6:\d+: error: ", result.stderr), result.stderr
    assert "PASSED  dy/dx" in result.stdout and "FAILED  dy/dx" in result.stdout
    rows = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines()
            if line.strip().startswith(str(tmp_path))}
    assert rows[str(good)] == ["2", "0", "0", "0", "0"]       # passed xfailed failed warn err
    assert rows[str(bad)] == ["0", "0", "0", "0", "1"]
    assert rows[str(wrong)] == ["1", "0", "1", "0", "0"]
    assert "1 failed, 3 passed, 1 bad input, 3 files" in result.stdout.splitlines()[-1]


@pytest.mark.parametrize("texts, code", [((GOOD, GOOD), 0), ((GOOD, WRONG), 1),
                                         ((GOOD, KNOWN), 0), ((WRONG, BROKEN), 2)])
def test_exit_status_bad_input_over_failure_over_success(tmp_path, texts, code):
    for k, text in enumerate(texts):
        write(tmp_path, f"f{k}.toml", text)
    assert invoke("check", "--expect", tmp_path).exit_code == code     # KNOWN's marker counts


def test_per_file_counts_from_the_library(tmp_path):
    write(tmp_path, "a.toml", KNOWN)
    write(tmp_path, "b.toml", BROKEN)
    plan = batch.collect([str(tmp_path)])
    report = batch.run(plan, Options())
    rows = {Path(r["file"]).name: r for r in batch.file_rows(report)}
    assert rows["a.toml"] == {"file": str(tmp_path / "a.toml"), "passed": 1, "xfailed": 1,
                              "failed": 0, "warnings": 0, "errors": 0}
    assert rows["b.toml"]["errors"] == 1
    assert report.exit_code == 2 and report.summary()["bad_inputs"] == 1


def test_a_directory_without_problem_files_is_a_warning_and_exit_2(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = invoke("check", empty)
    assert result.exit_code == 2
    assert f"{empty}: warning: no problem files" in result.stderr
    result = invoke("--problems", empty, "list")
    assert result.exit_code == 2 and "no problem files" in result.stderr


def test_a_shape_error_in_a_claim_fails_that_claim_only(tmp_path):
    path = write(tmp_path, "m.toml", MATRIX)
    result = invoke("check", path, "--json")
    assert result.exit_code == 1
    claims = {c["claim"]: c for c in json.loads(result.stdout)["claims"]}
    assert claims["dL/dw"]["verdict"] == "pass"
    shape = claims["dL/dw-shape"]
    assert shape["verdict"] == "fail" and shape["outcome"] == "failed"
    assert shape["diagnosis"][0]["kind"] == "ill-shaped"
    assert "shape mismatch for @" in shape["diagnosis"][0]["message"]
    assert (shape["line"], shape["col"]) == (19, 9)          # where its expr is written


def test_the_former_hostile_claim_is_now_a_failed_claim():
    report = check(load_text((FIXTURES / "shape_claim_mismatch.toml").read_text()))
    (verdict,) = report.verdicts
    assert verdict.verdict == "fail" and verdict.diagnosis[0].kind == "ill-shaped"
    assert report.exit_code == 1


def test_a_shape_error_in_the_graph_is_still_bad_input(tmp_path):
    path = write(tmp_path, "g.toml", MATRIX.replace("r = X @ w", "r = w @ X"))
    result = invoke("check", path)
    assert result.exit_code == 2 and f"{path}:5:" in result.stderr


# --- machine-readable formats ------------------------------------------------------------------
def test_json_places_every_claim_and_every_error(tmp_path):
    write(tmp_path, "a.toml", WRONG)
    write(tmp_path, "b.toml", BROKEN)
    data = json.loads(invoke("check", tmp_path, "--format", "json").stdout)
    for c in data["claims"]:
        assert c["file"].endswith("a.toml") and isinstance(c["line"], int) and \
            isinstance(c["col"], int)
    assert {(c["claim"], c["line"], c["col"]) for c in data["claims"]} == \
        {("dy/df", 13, 9), ("dy/dx", 19, 9)}
    (error,) = data["errors"]
    assert error["file"].endswith("b.toml") and error["line"] == 6 and error["col"]
    assert [r["failed"] for r in data["files"]] == [1, 0]


GITHUB = re.compile(r"^::(error|warning)(?: ((?:[a-z]+=[^,:]*)(?:,[a-z]+=[^,:]*)*))?::(.*)$")


def test_github_annotations_name_the_place_and_escape_their_values(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "a.toml", WRONG.replace('id = "dy/dx"', 'id = "dy/dx, 100%: bad"'))
    write(tmp_path, "b.toml", BROKEN)
    result = invoke("check", ".", "--format", "github")
    assert result.exit_code == 2
    lines = result.stdout.splitlines()
    annotations = [GITHUB.match(line) for line in lines[:-1]]
    assert all(annotations), lines
    props = [dict(p.split("=", 1) for p in m[2].split(",")) for m in annotations]
    error = next(p for p, m in zip(props, annotations) if "bad input" in p.get("title", ""))
    assert error["file"] == "b.toml" and error["line"] == "6"
    failed = next(p for p in props if "FAILED" in p.get("title", ""))
    assert failed == {"file": "a.toml", "line": "19", "col": "9",
                      "title": "deriv%3A chain dy/dx%2C 100%25%3A bad FAILED"}
    message = next(m[3] for m, p in zip(annotations, props) if p is failed)
    assert "lost factor 2" in message and "\n" not in message   # one line (escaping: below)
    assert "1 failed" in lines[-1]


def test_github_escaping_rules():
    from deriv.render.ci import annotation
    line = annotation("error", "50% done\r\nnext", "a,b:c.toml", 3, 4, "t")
    assert line == "::error file=a%2Cb%3Ac.toml,line=3,col=4,title=t::50%25 done%0D%0Anext"
    assert annotation("warning", "x\x1b[31m") == "::warning::x\\u001b[31m"   # no escape code


def _required(element, attributes):
    missing = [a for a in attributes if a not in element.attrib]
    assert not missing, (element.tag, missing)


def test_junit_has_the_schemas_required_elements_and_attributes(tmp_path):
    write(tmp_path, "a.toml", KNOWN)
    write(tmp_path, "b.toml", WRONG)
    write(tmp_path, "c.toml", BROKEN)
    result = invoke("check", "--expect", tmp_path, "--format", "junit")
    assert result.exit_code == 2
    root = ET.fromstring(result.stdout)
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert len(suites) == 3
    totals = dict(tests=0, failures=0, errors=0, skipped=0)
    for suite in suites:
        # Ant's JUnit schema (as Jenkins reads it): these are required on every testsuite ...
        _required(suite, ["name", "tests", "failures", "errors", "time", "timestamp",
                          "hostname", "id", "package"])
        assert [c.tag for c in suite][0] == "properties"
        assert [c.tag for c in suite][-2:] == ["system-out", "system-err"]
        cases = suite.findall("testcase")
        assert int(suite.get("tests")) == len(cases)
        for case in cases:
            _required(case, ["name", "classname", "time"])          # ... and on a testcase
            float(case.get("time"))
            for outcome in case:
                assert outcome.tag in ("failure", "error", "skipped")
                if outcome.tag != "skipped":
                    _required(outcome, ["type", "message"])
        counts = {"failures": "failure", "errors": "error", "skipped": "skipped"}
        for attribute, tag in counts.items():
            assert int(suite.get(attribute)) == len(suite.findall(f"testcase/{tag}"))
        for k in totals:
            totals[k] += int(suite.get(k))
    assert {k: int(root.get(k)) for k in totals} == totals == \
        dict(tests=5, failures=1, errors=1, skipped=1)
    failure = root.find(".//failure")
    assert failure.get("type") == "failed" and "2" in failure.get("message")   # a factor 2


def test_junit_survives_control_characters(tmp_path):
    write(tmp_path, "a.toml", WRONG.replace('id = "dy/dx"', 'id = "dy/dx\\u001b[31m"'))
    root = ET.fromstring(invoke("check", tmp_path, "--format", "junit").stdout)
    assert "\x1b" not in ET.tostring(root, encoding="unicode")


def test_quiet_shows_only_failures_and_the_summary(tmp_path):
    write(tmp_path, "a.toml", GOOD)
    write(tmp_path, "b.toml", WRONG)
    result = invoke("check", tmp_path, "-q")
    assert result.exit_code == 1
    assert "PASSED" not in result.stdout
    assert "FAILED  dy/dx" in result.stdout
    assert "1 failed, 3 passed" in result.stdout.splitlines()[-1]


# --- -k selection --------------------------------------------------------------------------
@pytest.mark.parametrize("expression, names, expected", [
    ("7.1", ["problem-7.12", "dy/dx"], True),
    ("PSI", ["problem-7.1", "dy/dpsi02"], True),
    ("7.1 and not psi", ["problem-7.1", "dy/dpsi02"], False),
    ("theta or psi", ["problem-7.1", "dy/dphi0"], False),
    ("not (theta or psi)", ["problem-7.1", "dy/dphi0"], True),
    ("a and b or c", ["c"], True),                  # and binds tighter than or
    ("a and (b or c)", ["c"], False),
])
def test_selection_matches_as_pytest_k(expression, names, expected):
    assert Selection(expression).matches(names) is expected


@pytest.mark.parametrize("expression", ["", "a and", "(a", "a )", "or b", "not",
                                        "(" * 60 + "a" + ")" * 60, "x" * 2000])
def test_selection_refuses_a_malformed_expression(expression):
    with pytest.raises(DerivError, match="-k"):
        Selection(expression)


def test_k_selects_claims_and_problems(tmp_path):
    write(tmp_path, "a.toml", WRONG)
    data = json.loads(invoke("check", tmp_path, "-k", "dy/df", "--json").stdout)
    assert [c["claim"] for c in data["claims"]] == ["dy/df"]
    result = invoke("check", tmp_path, "-k", "not dy/dx")
    assert result.exit_code == 0 and "dy/dx" not in result.stdout
    assert invoke("check", tmp_path, "-k", "chain").exit_code == 1      # the problem's id
    bad = invoke("check", tmp_path, "-k", "dy and")
    assert bad.exit_code == 2 and "-k" in bad.stderr
    none = invoke("check", tmp_path, "-k", "nothing-like-this")    # a typo must not pass CI
    assert none.exit_code == 2 and "selects no problem" in none.stderr


# --- configuration -----------------------------------------------------------------------------
def _project(tmp_path: Path, table: str) -> Path:
    (tmp_path / "answers").mkdir()
    write(tmp_path / "answers", "a.toml", KNOWN)
    write(tmp_path, "pyproject.toml", '[project]\nname = "course"\n\n[tool.deriv]\n' + table)
    deep = tmp_path / "sub" / "deeper"
    deep.mkdir(parents=True)
    return deep


def test_config_found_upward_gives_targets_samples_and_seed(tmp_path, monkeypatch):
    deep = _project(tmp_path, 'problems = ["answers"]\nsamples = 300\nseed = 4\n')
    data = json.loads(invoke("check", "--json", cwd=deep, monkeypatch=monkeypatch).stdout)
    assert {c["claim"] for c in data["claims"]} == {"dy/df", "dy/dx"}
    assert sum(c["samples"] for c in data["claims"]) == 600      # 300 each: the config's
    more = json.loads(invoke("check", "--json", "--samples", "500").stdout)   # the CLI wins
    assert sum(c["samples"] for c in more["claims"]) == 1000
    assert invoke("solve", "chain").exit_code == 0               # ids from the config's dirs


def test_config_expect_markers_count_only_in_the_named_files(tmp_path, monkeypatch):
    deep = _project(tmp_path, 'problems = ["answers"]\nexpect-markers = ["solutions/*"]\n')
    result = invoke("check", cwd=deep, monkeypatch=monkeypatch)
    assert result.exit_code == 1 and "FAILED  dy/dx" in result.stdout   # its marker ignored
    result = invoke("check", "--expect-markers", str(tmp_path / "answers" / "*"))
    assert result.exit_code == 0 and "XFAIL   dy/dx" in result.stdout


@pytest.mark.parametrize("table, place, message", [
    ('samples = "many"\n', ":5:11:", "'samples' is a whole number"),
    ("samples = 10\n", ":5:11:", "from 200"),
    ("seed = -1\n", ":5:8:", "'seed'"),
    ('problems = ["nowhere"]\n', ":5:12:", "does not exist"),
    ("colour = 1\n", ":5:1:", "unknown key 'colour'"),
    ("expect-markers = 3\n", ":5:18:", "list of file patterns"),
])
def test_a_bad_config_value_is_exit_2_at_its_place(tmp_path, monkeypatch, table, place, message):
    deep = _project(tmp_path, table)
    result = invoke("check", cwd=deep, monkeypatch=monkeypatch)
    assert result.exit_code == 2
    assert f"{tmp_path / 'pyproject.toml'}{place} error: [tool.deriv]" in result.stderr
    assert message in result.stderr


def test_no_config_without_a_tool_deriv_table(tmp_path):
    from deriv.config import load
    write(tmp_path, "pyproject.toml", '[tool.ruff]\nline-length = 100\n')
    assert load(tmp_path).path is None


# --- progress -----------------------------------------------------------------------------------
class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_only_on_a_terminal_and_only_after_a_delay():
    import time
    from deriv.render.progress import ClaimProgress
    pipe = io.StringIO()
    with ClaimProgress(3, stream=pipe, delay=0.0) as advance:
        time.sleep(0.1)
        advance()
    assert pipe.getvalue() == ""                            # not a terminal: nothing
    quick = _Terminal()
    with ClaimProgress(3, stream=quick, delay=5.0) as advance:
        advance()
    assert quick.getvalue() == ""                           # a short run: nothing
    slow = _Terminal()
    with ClaimProgress(3, stream=slow, delay=0.0) as advance:
        time.sleep(0.3)
        advance()
        time.sleep(0.3)
    assert "checking" in slow.getvalue() and "1/3" in slow.getvalue()


# --- the small ones ----------------------------------------------------------------------------
def test_solve_a_file_of_several_problems_asks_which(tmp_path):
    path = write(tmp_path, "two.toml", GOOD + "\n" + MATRIX)
    result = invoke("solve", path)
    assert result.exit_code == 2 and "holds 2 problems: chain, lsq" in result.stderr
    assert "--id" in result.stderr
    assert invoke("solve", path, "--id", "chain").exit_code == 0
    wrong = invoke("solve", path, "--id", "nope")
    assert wrong.exit_code == 2 and "chain, lsq" in wrong.stderr


def test_show_as_json_and_markdown(tmp_path):
    path = write(tmp_path, "two.toml", GOOD + "\n" + MATRIX)
    data = json.loads(invoke("show", path, "--format", "json", "--id", "lsq").stdout)
    assert data["problem"] == "lsq" and data["inputs"] == {"X": "matrix(m, n)",
                                                           "w": "vector(n)"}
    assert [c["claim"] for c in data["claims"]] == ["dL/dw", "dL/dw-shape"]
    assert data["graph"][0] == {"node": "r", "expr": "X @ w", "line": 5} or \
        data["graph"][0]["node"] == "r"
    markdown = invoke("show", "problem-7.12", "--format", "markdown").stdout
    assert markdown.startswith("### `problem-7.12`") and "$$" in markdown


# --- reuse across copies, and diagnosis on a bounded number of points ---------------------------
def test_copies_of_a_problem_get_the_verdicts_each_alone_gets(tmp_path):
    texts = [GOOD, WRONG, GOOD.replace('expr = "2*f"', 'expr = "-2*f"')]
    problems = [p for k, t in enumerate(texts) for p in load_text(t, f"s{k}.toml")]
    together = check(problems)
    alone = [v for p in problems for v in check([p]).verdicts]
    assert [(v.file, v.claim.id, v.verdict, [f.kind for f in v.diagnosis])
            for v in together.verdicts] == \
        [(v.file, v.claim.id, v.verdict, [f.kind for f in v.diagnosis]) for v in alone]
    assert [v.verdict for v in together.verdicts] == ["pass", "pass", "pass", "fail",
                                                       "fail", "pass"]


def test_a_diagnosis_reads_the_same_at_many_samples():
    problems = load_text(WRONG.replace('expr = "2*f"', 'expr = "2*f*x"'))
    few = check(problems, Options(samples=2000))
    many = check(problems, Options(samples=50_000))
    assert [[f.kind for f in v.diagnosis] for v in many.verdicts] == \
        [[f.kind for f in v.diagnosis] for v in few.verdicts]
    assert many.verdicts[0].samples > 20 * few.verdicts[0].samples
    assert [v.verdict for v in many.verdicts] == ["fail", "fail"]


def test_markdown_summary_lists_documents_in_order_whatever_the_files():
    out = invoke("check", "--format", "markdown", "--samples", "200").stdout
    documents = re.findall(r"^### .*\(`(\d{3})_", out, re.M)
    assert documents == sorted(set(documents)) and len(documents) >= 5


# --- a run shared among worker processes ------------------------------------------------------
def _outcomes(report):
    return [(v.file, v.problem, v.claim.id, v.verdict, v.samples,
             [(f.kind, f.number, str(f.expr)) for f in v.diagnosis]) for v in report.verdicts]


def test_workers_give_the_report_one_process_gives():
    from deriv.catalog import load_catalog
    problems = [p for p in load_catalog(None)
                if p.source_file.startswith(("udl", "dis"))] or load_catalog(None)
    seen = []
    alone = check(problems, Options(samples=400, jobs=1))
    shared = check(problems, Options(samples=400, jobs=2), progress=seen.append)
    assert _outcomes(shared) == _outcomes(alone)
    assert any(v.verdict == "fail" for v in alone.verdicts)       # explanations travel back
    assert sorted(id(v) for v in seen) == sorted(id(v) for v in shared.verdicts)
    claims = {id(c) for p in problems for c in p.claims}
    assert all(id(v.claim) in claims for v in shared.verdicts)    # this process's own claims


def test_a_problem_a_worker_cannot_check_is_checked_here(tmp_path):
    """Bad input found while checking (here: a graph too large for its sample count) is found
    again in this process, so it is reported as a run in one process reports it."""
    chain = "\n".join(f"Y{k} = hadamard(Y{k - 1}, X)" for k in range(1, 300))
    big = f'[[problem]]\nid = "wide"\ninputs = {{ X = "matrix(64, 64)" }}\n' \
          f'graph = """\nY0 = X\n{chain}\nL = sum(Y299)\n"""\n' \
          '[[problem.claim]]\nid = "g"\nof = "L"\nwrt = "X"\nexpr = "X"\n'
    problems = load_text(GOOD, "good.toml") + load_text(big, "big.toml")
    errors_alone, errors_shared = [], []
    alone = check(problems, Options(jobs=1), on_error=lambda p, e: errors_alone.append(p.id))
    shared = check(problems, Options(jobs=2), on_error=lambda p, e: errors_shared.append(p.id))
    assert errors_shared == errors_alone == ["wide"]
    assert _outcomes(shared) == _outcomes(alone)


def test_a_worker_that_dies_leaves_its_task_to_the_caller():
    import os
    from deriv import workers
    if not workers.available():
        pytest.skip("no fork here")

    def work(task):
        if task == 3:
            os._exit(1)             # as a worker killed by the kernel
        return task * 10
    got = dict(workers.each(work, list(range(6)), 2))
    assert set(got) == set(range(6))
    assert got[3] is None
    assert all(got[t] in (t * 10, None) for t in got)


def test_workers_left_early_are_stopped_not_waited_for():
    """Ctrl-C (or a caller that stops reading) must not wait for the workers' long tasks."""
    import multiprocessing
    import time
    from deriv import workers
    if not workers.available():
        pytest.skip("no fork here")

    def work(task):
        if task:
            time.sleep(60)
        return task
    start = time.perf_counter()
    results = workers.each(work, [0, 1, 2], 2)
    assert next(results) == (0, 0)
    results.close()
    assert time.perf_counter() - start < 30
    deadline = time.perf_counter() + 10
    while multiprocessing.active_children() and time.perf_counter() < deadline:
        time.sleep(0.1)
    assert not multiprocessing.active_children()


def test_copies_of_a_problem_share_work_only_when_everything_that_decides_it_is_the_same(
        tmp_path):
    """Two files with the same problem id and graph, one with a size relation (n == 2): checked
    together they give what each gives alone (they had shared one file's sizes, so that a
    wrong claim passed), in either order."""
    text = textwrap.dedent('''\
        [[problem]]
        id = "p"
        inputs = { x = "vector(n)" }
        SIZES
        graph = "L = sum(hadamard(x, x))"
        claim = [{ id = "c", of = "L", wrt = "x", expr = "2*x + (n-2)*x" }]
        ''')
    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    a.write_text(text.replace("SIZES", 'sizes = ["n == 2"]'))
    b.write_text(text.replace("SIZES", ""))
    alone = {str(f): check(batch.collect([str(f)]).problems).verdicts[0].verdict
             for f in (a, b)}
    assert alone == {str(a): "pass", str(b): "fail"}
    for order in ([a, b], [b, a]):
        plan = batch.collect([str(f) for f in order])
        together = {v.file: v.verdict for v in check(plan.problems, Options(jobs=1)).verdicts}
        assert together == alone


def test_a_files_own_error_is_not_hidden_by_size_or_sheet_options(tmp_path):
    """With --size n=3 (or --sheet), a file whose graph does not load had been reported as
    "no problem checked has a size 'n'" ("--sheet checks one problem; 0 were named")."""
    from click.testing import CliRunner
    from deriv.cli import main
    bad = tmp_path / "bad.toml"
    bad.write_text('[[problem]]\nid = "p"\ninputs = { x = "vector(n)" }\ngraph = "y = qq * x"\n')
    (tmp_path / "s.md").write_text("$$y = 2x$$\n")
    for extra in (["--size", "n=3"], ["--sheet", str(tmp_path / "s.md")]):
        result = CliRunner().invoke(main, ["check", str(bad), *extra])
        assert result.exit_code == 2 and f"{bad}:4:" in result.output and "qq" in result.output, \
            (extra, result.output)
