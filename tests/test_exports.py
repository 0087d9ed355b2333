"""Pictures and exports: DOT and Graphviz pictures, derivative plots and their kinks, LaTeX,
Markdown, Jupyter reprs. CLI through click's CliRunner."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import sympy as sp
from click.testing import CliRunner

from deriv.annotate import annotate
from deriv.catalog import bundled_dir, load_catalog
from deriv.cli import main
from deriv.errors import DerivError
from deriv.primitives import indicator, relu, sigmoid
from deriv.parse import DRef
from deriv.plot import derivative_curve, parse_over
from deriv.problem import load_file, load_text
from deriv.render import dot, latex, markdown
from deriv.solution import solve

CATALOG = bundled_dir()
DIS_BACKPROP = CATALOG / "dis-backprop.toml"
EECS182 = CATALOG / "eecs182-dis2.toml"

# A one-hidden-layer ReLU net with scalar input and two units: y = Σ V_i relu(W_i x + b_i) + c.
RELU_NET = textwrap.dedent('''
    [source]
    title = "Test: a two-unit ReLU network"
    file = "test.txt"

    [[problem]]
    id = "relu-net"
    title = "y = V1 relu(W1 x + b1) + V2 relu(W2 x + b2) + c"
    inputs = { x = "real", W1 = "real", b1 = "real", W2 = "real", b2 = "real", V1 = "real", V2 = "real", c = "real" }
    at = { x = 0.3, W1 = 2, b1 = -1, W2 = -1, b2 = -1, V1 = 1.5, V2 = 3, c = 0.5 }
    display = { b1 = "b⁽¹⁾", W1 = "W⁽¹⁾" }
    graph = """
    z1 = W1*x + b1
    z2 = W2*x + b2
    a1 = relu(z1)
    a2 = max(0, z2)
    y  = V1*a1 + V2*a2 + c
    """

    [[problem.claim]]
    id = "dy/db1"
    of = "y"
    wrt = "b1"
    printed = "V1"
    expr = "V1"
    expect = "fail"
    note = "drops the indicator"
''')


@pytest.fixture()
def run():
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(main, [str(a) for a in args], catch_exceptions=False)
    return invoke


@pytest.fixture()
def relu_net(tmp_path) -> Path:
    path = tmp_path / "relu-net.toml"
    path.write_text(RELU_NET, encoding="utf-8")
    return path


def is_matrix(problem) -> bool:
    """A problem with a vector or matrix anywhere in its graph."""
    graph = problem.graph
    return any(graph.shape(n) for n in graph.symbols)


def catalog_problems(scalar_only: bool = False):
    """Every problem of the bundled catalog. A file that does not load fails here, loudly: it
    must never drop out of the export tests unnoticed."""
    problems = []
    for path in sorted(CATALOG.glob("*.toml")):
        problems.extend(load_file(path))
    if scalar_only:
        problems = [p for p in problems if not is_matrix(p)]
    return problems


CATALOG_IDS = [p.id for p in load_catalog()]
# id → its catalog file: `deriv solve FILE --id ID` loads one file, not the whole catalog
CATALOG_FILES = {p.id: path for path in sorted(CATALOG.glob("*.toml")) for p in load_file(path)}


# --- a tiny DOT reader ---------------------------------------------------------------------------
_TOKEN = re.compile(r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<arrow>->)|(?P<id>[A-Za-z0-9_.\-]+)'
                    r'|(?P<punct>[{}\[\];=,])|(?P<html><))')


def dot_tokens(text: str) -> list[tuple[str, str]]:
    tokens, i = [], 0
    while i < len(text):
        if text[i:].strip() == "":
            break
        m = _TOKEN.match(text, i)
        assert m, f"DOT does not tokenize at {text[i:i + 40]!r}"
        if m["html"]:
            start = m.start("html")
            depth, j = 0, start
            while True:
                depth += {"<": 1, ">": -1}.get(text[j], 0)
                j += 1
                if depth == 0:
                    break
                assert j < len(text), "unbalanced <…> label"
            tokens.append(("html", text[start + 1:j - 1]))
            i = j
            continue
        kind = m.lastgroup
        value = m[kind]
        tokens.append((kind, value[1:-1] if kind == "str" else value))
        i = m.end()
    return tokens


def parse_dot(text: str):
    """→ (graph name, {node: attrs}, [(tail, head, attrs)]); asserts the grammar it reads."""
    tokens = dot_tokens(text)
    pos = 0

    def take(kind=None, value=None):
        nonlocal pos
        k, v = tokens[pos]
        assert kind is None or k == kind, (k, v, kind)
        assert value is None or v == value, (k, v, value)
        pos += 1
        return v

    def attrs():
        out = {}
        if pos < len(tokens) and tokens[pos] == ("punct", "["):
            take("punct", "[")
            while tokens[pos] != ("punct", "]"):
                key = take()
                take("punct", "=")
                out[key] = take()
                if tokens[pos] == ("punct", ","):
                    take()
            take("punct", "]")
        return out

    nodes, edges = {}, []

    def statements():
        while tokens[pos] != ("punct", "}"):
            if tokens[pos] == ("punct", "{"):
                take()
                statements()
                take("punct", "}")
                continue
            first = take()
            if first in ("graph", "node", "edge") and tokens[pos] == ("punct", "["):
                attrs()
            elif tokens[pos] == ("punct", "="):
                take()
                take()
            elif tokens[pos] == ("arrow", "->"):
                take()
                second = take()
                edges.append((first, second, attrs()))
            else:
                found = attrs()
                nodes.setdefault(first, {}).update(found)
            if pos < len(tokens) and tokens[pos] == ("punct", ";"):
                take()

    take("id", "digraph")
    name = take()
    take("punct", "{")
    statements()
    take("punct", "}")
    assert pos == len(tokens)
    return name, nodes, edges


def plain(label: str) -> str:
    """The text of an HTML-like label."""
    text = re.sub(r"<br/>", "\n", label)
    text = re.sub(r"<[^>]+>", "", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"') \
        .replace("&amp;", "&")


# --- graph: DOT, terminal, Graphviz --------------------------------------------------------------
def test_dot_of_dis_backprop_names_every_node_and_edge_with_values_and_adjoints(run):
    result = run("graph", DIS_BACKPROP, "--id", "dis-backprop-1", "--format", "dot")
    assert result.exit_code == 0, result.output
    name, nodes, edges = parse_dot(result.output)
    assert name == "dis-backprop-1"
    assert set(nodes) == {"x", "y", "z", "g", "f"}
    assert {(a, b) for a, b, _ in edges} == {("x", "g"), ("y", "g"), ("g", "f"), ("z", "f")}
    labels = {n: plain(a["label"]) for n, a in nodes.items()}
    assert "g = 3" in labels["g"] and "f = -12" in labels["f"]
    assert "∂f/∂x = -4" in labels["x"] and "∂f/∂y = -4" in labels["y"]
    assert "∂f/∂z = 3" in labels["z"] and "∂f/∂g = -4" in labels["g"]
    assert "g = x + y" in labels["g"] and "f = g·z" in labels["f"]
    edge_labels = {(a, b): plain(at["label"]) for a, b, at in edges}
    assert edge_labels[("g", "f")] == "∂f/∂g = z = -4"
    assert edge_labels[("z", "f")] == "∂f/∂z = g = 3"
    assert edge_labels[("x", "g")] == "∂g/∂x = 1"
    # the adjoint is drawn in a second colour
    assert dot.ADJOINT_COLOUR in nodes["x"]["label"] and dot.VALUE_COLOUR in nodes["x"]["label"]


def test_dot_of_every_scalar_catalog_problem_parses_and_names_every_node_and_edge():
    problems = catalog_problems(scalar_only=True)
    assert problems
    for problem in problems:
        picture = annotate(problem)
        name, nodes, edges = parse_dot(dot.dot(picture))
        graph = problem.graph
        assert name == problem.id
        assert set(nodes) == set(graph.inputs) | set(graph.nodes), problem.id
        expected = {(p, n) for n in graph.order for p in graph.nodes[n].parents}
        assert {(a, b) for a, b, _ in edges} == expected, problem.id
        assert all("label" in attrs for _, _, attrs in edges)


def test_terminal_drawing_shows_layers_values_adjoints_and_edges(run):
    result = run("graph", DIS_BACKPROP, "--id", "dis-backprop-1")
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.index("inputs") < out.index("layer 1") < out.index("layer 2 · output")
    for text in ("g = x + y", "g = 3", "∂f/∂g = -4", "f = -12", "∂f/∂x = -4", "∂f/∂z = 3",
                 "◀ g   ∂f/∂g = z = -4", "◀ z   ∂f/∂z = g = 3"):
        assert text in out, text


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_graph_png_of_dis_backprop_1(run, tmp_path):
    # the picture as SVG carries its text: forward values 3, −12; gradients −4, −4, 3
    svg = tmp_path / "f.svg"
    assert run("graph", "dis-backprop-1", "-o", svg).exit_code == 0
    text = html.unescape(svg.read_text(encoding="utf-8"))
    for shown in ("g = 3", "f = -12", "∂f/∂x = -4", "∂f/∂y = -4", "∂f/∂z = 3"):
        assert shown in text, shown
    # the same picture as PNG, as the issue asks
    png = tmp_path / "f.png"
    result = run("graph", "dis-backprop-1", "-o", png)
    assert result.exit_code == 0, result.output
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5_000
    assert_not_blank(png)


def test_missing_graphviz_says_how_to_install_it_and_dot_still_works(run, tmp_path, monkeypatch):
    monkeypatch.setattr(dot.shutil, "which", lambda name: None)
    result = CliRunner().invoke(main, ["graph", str(DIS_BACKPROP), "--id", "dis-backprop-1", "-o", str(tmp_path / "f.png")])
    assert result.exit_code == 2
    assert "apt-get install graphviz" in result.output and "--format dot" in result.output
    assert run("graph", DIS_BACKPROP, "--id", "dis-backprop-1", "--format", "dot").exit_code == 0
    written = tmp_path / "f.dot"
    assert run("graph", DIS_BACKPROP, "--id", "dis-backprop-1", "-o", written).exit_code == 0
    parse_dot(written.read_text(encoding="utf-8"))


def test_graph_refuses_a_bad_output_suffix(tmp_path):
    result = CliRunner().invoke(main, ["graph", str(DIS_BACKPROP), "--id", "dis-backprop-1", "-o", str(tmp_path / "f.jpg")])
    assert result.exit_code == 2 and ".svg, .png or .pdf" in result.output


def assert_not_blank(path: Path):
    image = pytest.importorskip("matplotlib.image")
    pixels = image.imread(str(path))
    assert pixels.ndim == 3 and pixels.shape[0] > 50 and pixels.shape[1] > 50
    assert float(pixels[..., :3].std()) > 0.05      # more than one colour
    assert float(pixels[..., :3].min()) < 0.5       # something dark was drawn


# --- plot: the kinks where the math puts them ----------------------------------------------------
def test_kinks_of_a_relu_net_are_where_the_math_puts_them(relu_net):
    problem = load_file(relu_net)[0]
    W1, b1, W2, b2 = (sp.Symbol(n, real=True) for n in ("W1", "b1", "W2", "b2"))

    # ∂y/∂b1 = V1 𝕀[W1 x + b1 > 0]: a step at x = −b1/W1 = 0.5, from 0 to V1 = 1.5
    curve = derivative_curve(problem, "b1", "x", -3, 3)
    assert [k.kind for k in curve.kinks] == ["jump"]
    kink = curve.kinks[0]
    assert kink.x == pytest.approx(0.5, abs=1e-12)
    assert sp.simplify(kink.location - (-b1 / W1)) == 0
    assert (kink.left, kink.right) == (0, 1.5)
    assert [(p.kind, p.value) for p in curve.pieces] == [("constant", 0), ("constant", 1.5)]

    # ∂y/∂V1 = relu(W1 x + b1): a kink (slope 0 → W1 = 2) at the same place
    curve = derivative_curve(problem, "V1", "x", -3, 3)
    assert [k.kind for k in curve.kinks] == ["kink"]
    assert curve.kinks[0].x == pytest.approx(0.5, abs=1e-12)
    assert (curve.kinks[0].slope_left, curve.kinks[0].slope_right) == (0, 2)
    assert [p.kind for p in curve.pieces] == ["constant", "linear"]
    assert curve.pieces[1].slope == 2

    # ∂y/∂x = V1 W1 𝕀[z1 > 0] + V2 W2 𝕀[z2 > 0]: steps at −b1/W1 = 0.5 and −b2/W2 = −1
    curve = derivative_curve(problem, "x", "x", -3, 3)
    assert [round(k.x, 12) for k in curve.kinks] == [-1, 0.5]
    assert [sp.simplify(k.location - e) for k, e in zip(curve.kinks, (-b2 / W2, -b1 / W1))] \
        == [0, 0]
    assert [p.value for p in curve.pieces] == [-3, 0, 3]

    # --at moves the step: W1 = 4, b1 = 1 → x = −0.25
    curve = derivative_curve(problem, "b1", "x", -3, 3, at={"W1": 4, "b1": 1})
    assert [round(k.x, 12) for k in curve.kinks] == [-0.25]
    assert (curve.kinks[0].left, curve.kinks[0].right) == (0, 1.5)

    # no kink inside the interval: one piece
    curve = derivative_curve(problem, "b1", "x", 1, 3)
    assert curve.kinks == [] and [p.value for p in curve.pieces] == [1.5]


@pytest.mark.skipif(not EECS182.exists(), reason="eecs182-dis2.toml is not in the catalog yet")
def test_eecs182_dis2_1_steps_at_minus_b_over_w():
    problem = next(p for p in load_file(EECS182) if p.id == "eecs182-dis2-1")
    at = {"W1_1": 2.0, "b1_1": -1.0, "W1_2": -1.0, "b1_2": -1.5, "W1_3": 0.5, "b1_3": 0.25,
          "W2_1": 1.5, "W2_2": 3.0, "W2_3": -2.0}
    for i in (1, 2, 3):
        W, b = sp.Symbol(f"W1_{i}", real=True), sp.Symbol(f"b1_{i}", real=True)
        where = -at[f"b1_{i}"] / at[f"W1_{i}"]
        curve = derivative_curve(problem, f"b1_{i}", "x", -3, 3, at=at)
        assert [k.kind for k in curve.kinks] == ["jump"]
        assert curve.kinks[0].x == pytest.approx(where, abs=1e-12)
        assert sp.simplify(curve.kinks[0].location - (-b / W)) == 0
        assert {curve.kinks[0].left, curve.kinks[0].right} == {0, at[f"W2_{i}"]}
        kinks = derivative_curve(problem, f"W2_{i}", "x", -3, 3, at=at).kinks
        assert [k.kind for k in kinks] == ["kink"] and kinks[0].x == pytest.approx(where)
    curve = derivative_curve(problem, "x", "x", -3, 3, at=at)
    assert [round(k.x, 12) for k in curve.kinks] == [-1.5, -0.5, 0.5]


def test_plot_in_the_terminal_lists_kinks_and_pieces(run, relu_net):
    result = run("plot", relu_net, "--wrt", "b1", "--over", "x=-3:3")
    assert result.exit_code == 0, result.output
    assert "jump at x = -b⁽¹⁾/W⁽¹⁾ = 0.5: from 0 to 1.5" in result.output
    assert "x ∈ [-3, 0.5): value 0" in result.output and "x ∈ (0.5, 3]: value 1.5" in result.output
    assert "▲" in result.output and "•" in result.output


@pytest.mark.parametrize("args, message", [
    (("--wrt", "b1", "--over", "x=3:-3"), "LO must be a finite number below HI"),
    (("--wrt", "b1", "--over", "x"), "NAME=LO:HI"),
    (("--wrt", "b1", "--over", "q=0:1"), "'q' is not an input"),
    (("--wrt", "nope", "--over", "x=0:1"), "--wrt nope"),
    (("--wrt", "b1", "--over", "x=0:1", "--at", "zz=1"), "'zz' is not an input"),
])
def test_plot_refusals_exit_2(relu_net, args, message):
    result = CliRunner().invoke(main, ["plot", str(relu_net), *args])
    assert result.exit_code == 2 and message in result.output


def test_plot_png_and_svg_exist_and_are_not_blank(run, relu_net, tmp_path):
    pytest.importorskip("matplotlib")
    png = tmp_path / "d.png"
    result = run("plot", relu_net, "--wrt", "x", "--over", "x=-3:3", "-o", png)
    assert result.exit_code == 0, result.output
    assert "jump at x = -b₂/W₂ = -1" in result.output and "jump at x = -b⁽¹⁾/W⁽¹⁾ = 0.5" in \
        result.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert_not_blank(png)
    svg = tmp_path / "d.svg"
    assert run("plot", relu_net, "--wrt", "V1", "--over", "x=-3:3", "-o", svg).exit_code == 0
    assert "<svg" in svg.read_text(encoding="utf-8")[:500]


def test_plot_figure_marks_and_labels_every_kink(relu_net):
    pytest.importorskip("matplotlib")
    from deriv.render.figure import figure
    curve = derivative_curve(load_file(relu_net)[0], "x", "x", -3, 3)
    fig = figure(curve)
    ax = fig.axes[0]
    dashed = sorted(round(line.get_xdata()[0], 9) for line in ax.get_lines()
                    if line.get_linestyle() == "--")
    assert dashed == [-1, 0.5]
    texts = [t.get_text() for t in fig.texts] + [t.get_text() for t in ax.texts]
    assert any("jump at x = -b₂/W₂ = -1" in t for t in texts)
    assert any("jump at x = -b⁽¹⁾/W⁽¹⁾ = 0.5" in t for t in texts)
    assert sorted(t for t in texts if t.startswith("value")) == ["value -3", "value 0", "value 3"]


def test_plot_without_matplotlib_says_how_to_get_it(relu_net, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)      # import fails
    result = CliRunner().invoke(main, ["plot", str(relu_net), "--wrt", "b1", "--over", "x=-3:3",
                                       "-o", str(tmp_path / "d.png")])
    assert result.exit_code == 2 and "pip install 'deriv[plot]'" in result.output


def test_parse_over():
    assert parse_over("x=-3:3") == ("x", -3.0, 3.0)
    assert parse_over(" w = 0.5:1e1") == ("w", 0.5, 10.0)
    for bad in ("x", "x=1", "x=a:b", "x=2:1", "x=nan:1", "x=-inf:0"):
        with pytest.raises(DerivError):
            parse_over(bad)


def test_matrix_problems_are_refused_with_a_message():
    matrix = [p for p in catalog_problems() if is_matrix(p)]
    assert matrix, "the catalog has matrix problems"
    with pytest.raises(DerivError, match="vectors and matrices"):
        annotate(matrix[0])


# --- LaTeX -------------------------------------------------------------------------------------
def test_latex_printer_primitives_and_names():
    z, x, psi02 = (sp.Symbol(n, real=True) for n in ("z", "x", "psi02"))
    assert latex.math(relu(z)) == r"\mathrm{a}\left[z\right]"
    assert latex.math(relu(z), relu_style="name") == r"\mathrm{ReLU}\left(z\right)"
    assert latex.math(indicator(z)) == r"\mathbb{I}\left[z > 0\right]"
    assert latex.math(indicator(-z)) == r"\mathbb{I}\left[z < 0\right]"
    assert latex.math(sigmoid(z)) == r"\sigma\left(z\right)"
    assert latex.math(psi02) == r"\psi_{02}"
    assert latex.math(DRef("y", "f3").symbol()) == r"\frac{\partial y}{\partial f_{3}}"
    assert latex.math(DRef("y", "f3").symbol() ** 2) == \
        r"\left(\frac{\partial y}{\partial f_{3}}\right)^{2}"
    assert latex.math(sp.Symbol("f3_bar")) == r"\bar{f_{3}}"
    assert latex.math(sp.Symbol("b1_1"), {"b1_1": "b⁽¹⁾₁"}) == "b^{(1)}_{1}"
    assert latex.math(sp.Symbol("yhat"), {"yhat": "ŷ"}) == r"\hat{y}"
    assert latex.math(sp.Symbol("L"), {"L": "𝓛"}) == r"\mathcal{L}"
    assert latex.math(sp.Float(1.25) * x) == "1.25 x"
    assert latex.number(1.2e-7) == r"1.2 \cdot 10^{-7}"


def check_latex_structure(tex: str):
    """Braces, environments, \\left/\\right and $ balanced (comments ignored)."""
    body = "\n".join(line for line in tex.splitlines() if not line.lstrip().startswith("%"))
    depth = 0
    stripped = re.sub(r"\\[{}$%&#_]", "", body)
    for ch in stripped:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        assert depth >= 0, "a } closes nothing"
    assert depth == 0, "unclosed {"
    stack = []
    for kind, env in re.findall(r"\\(begin|end)\{([^}]*)\}", body):
        if kind == "begin":
            stack.append(env)
        else:
            assert stack and stack.pop() == env, f"\\end{{{env}}} does not match"
    assert not stack, f"unclosed environments {stack}"
    assert len(re.findall(r"\\left\b", body)) == len(re.findall(r"\\right\b", body))
    assert stripped.count("$") % 2 == 0
    arrays = re.sub(r"\\begin\{([pbvV]?matrix)\}.*?\\end\{\1\}", "M", body, flags=re.S)
    for env_body in re.findall(r"\\begin\{align\*\}(.*?)\\end\{align\*\}", arrays, re.S):
        for row in env_body.split("\\\\"):
            if row.strip():
                assert row.count("&") == 1, row


@pytest.fixture(scope="module")
def catalog_solutions():
    problems = catalog_problems()
    solutions = [solve(problem, simplify=False) for problem in problems]  # DerivError: fails
    assert len(solutions) == len(CATALOG_IDS)
    return solutions


def test_latex_of_every_catalog_problem_is_well_formed(catalog_solutions, tmp_path):
    fragments = []
    for sol in catalog_solutions:
        tex = latex.solution(sol)
        check_latex_structure(tex)
        assert r"\begin{align*}" in tex and r"\frac{\partial" in tex, sol.problem.id
        fragments.append(tex)
    if shutil.which("pdflatex") is None:
        return
    source = tmp_path / "all.tex"
    source.write_text(latex.document("\n".join(fragments), "deriv: the catalog"),
                      encoding="utf-8")
    done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", source.name],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    errors = [line for line in done.stdout.splitlines() if line.startswith("!")]
    assert done.returncode == 0 and not errors, errors or done.stdout[-2000:]
    assert (tmp_path / "all.pdf").stat().st_size > 1000


def latex_math_parts(tex: str) -> list[str]:
    """The math of a LaTeX export: align* bodies and $…$ (comments and prose left out)."""
    body = "\n".join(line for line in tex.splitlines() if not line.lstrip().startswith("%"))
    parts = re.findall(r"\\begin\{align\*\}(.*?)\\end\{align\*\}", body, re.S)
    rest = re.sub(r"\\begin\{align\*\}.*?\\end\{align\*\}", " ", body, flags=re.S)
    return parts + re.findall(r"(?<!\\)\$(.+?)(?<!\\)\$", rest, re.S)


def markdown_math_parts(md: str) -> list[str]:
    """The math of a Markdown export: $$ … $$ blocks and inline $…$ (prose left out)."""
    parts = re.findall(r"^\$\$\n(.*?)\n\$\$$", md, re.S | re.M)
    rest = re.sub(r"^\$\$\n.*?\n\$\$$", " ", md, flags=re.S | re.M).replace("\\$", "")
    return parts + re.findall(r"\$([^$\n]+)\$", rest)


@pytest.mark.parametrize("mode", ["forward", "reverse", "both"])
@pytest.mark.parametrize("problem_id", CATALOG_IDS)
def test_every_catalog_problem_solves_in_every_format_and_mode(problem_id, mode):
    """`deriv solve ID --mode M --format F` for every catalog id: exit 0, well-formed output,
    and no `?` standing in for a symbol the printer did not know."""
    assert set(CATALOG_FILES) == set(CATALOG_IDS)
    runner = CliRunner()
    for fmt in ("text", "json", "latex", "markdown"):
        result = runner.invoke(main, ["solve", str(CATALOG_FILES[problem_id]), "--id", problem_id,
                                      "--mode", mode, "--format", fmt])
        assert result.exit_code == 0, (fmt, result.output, result.exception)
        out = result.output
        assert out.strip(), fmt
        if fmt == "json":
            json.loads(out)
        elif fmt == "latex":
            check_latex_structure(out)
            maths = latex_math_parts(out)
            assert maths, "no math in the LaTeX"
            assert not [m for m in maths if "?" in m], [m for m in maths if "?" in m][:3]
        elif fmt == "markdown":
            check_markdown(out)
            maths = markdown_math_parts(out)
            assert maths, "no math in the Markdown"
            assert not [m for m in maths if "?" in m], [m for m in maths if "?" in m][:3]


def test_latex_of_problem_7_12_has_one_align_line_per_step(run):
    result = run("solve", CATALOG / "udl-ch7.toml", "--id", "problem-7.12", "--format", "latex")
    assert result.exit_code == 0, result.output
    tex = result.output
    check_latex_structure(tex)
    assert (r"\frac{\partial y}{\partial f_{3}} &= \frac{\partial y}{\partial f_{4}} "
            r"\frac{\partial f_{4}}{\partial f_{3}} + \frac{\partial y}{\partial f_{5}} "
            r"\frac{\partial f_{5}}{\partial f_{3}} = ") in tex
    assert r"f_{2} &= f_{1}^{2} = 2.71828" in tex


# --- Markdown ----------------------------------------------------------------------------------
def check_markdown(md: str):
    lines = md.splitlines()
    assert sum(line.strip() == "$$" for line in lines) % 2 == 0
    inside = False
    for line in lines:
        if line.strip() == "$$":
            inside = not inside
            continue
        if not inside:
            assert line.replace("\\$", "").count("$") % 2 == 0, line
            if line.startswith("|"):
                assert line.endswith("|") and "\\vert" not in line.replace("\\vert ", "")
    assert not inside


def test_markdown_of_every_catalog_problem_renders(catalog_solutions):
    for sol in catalog_solutions:
        md = markdown.solution(sol)
        check_markdown(md)
        assert "| node | definition | value |" in md, sol.problem.id
        check_markdown(markdown.problem(sol.problem))


def test_markdown_of_dis_backprop_via_cli(run):
    result = run("solve", DIS_BACKPROP, "--id", "dis-backprop-1", "--format", "markdown")
    assert result.exit_code == 0, result.output
    md = result.output
    check_markdown(md)
    assert "| $g$ | $x + y$ | 3 |" in md and "| $f$ | $g z$ | -12 |" in md
    assert "$$\n\\frac{\\partial f}{\\partial x} = \\frac{\\partial f}{\\partial g} " \
           "\\frac{\\partial g}{\\partial x} = z = -4\n$$" in md


def test_markdown_report_per_document(run, relu_net):
    result = run("check", "--expect", relu_net, DIS_BACKPROP, "--format", "markdown",
                 "--samples", "200")
    assert result.exit_code == 0, result.output
    md = result.output
    check_markdown(md)
    assert "### Test: a two-unit ReLU network (`test.txt`)" in md
    assert "1 claim checked in 1 problem, 0 correct, 1 erratum found." in md
    assert "- `relu-net` `dy/db1` $\\frac{\\partial y}{\\partial b^{(1)}}$ — known erratum" in md
    assert re.search(r"  - [a-z-]+: ", md)          # deriv's diagnosis under the erratum
    problems = load_file(DIS_BACKPROP)
    n = sum(len(p.claims) for p in problems)
    assert f"{n} claims checked in {len(problems)} problems, {n} correct, no errata." in md
    assert f"**In all:** {n + 1} claims in 2 documents, 1 erratum found" in md


# --- Jupyter -----------------------------------------------------------------------------------
def test_problem_and_solution_display_themselves():
    import deriv.render.jupyter  # noqa: F401  (deriv.load and deriv.solve import it)
    problem = load_file(DIS_BACKPROP)[0]
    assert problem._repr_markdown_().startswith("### `dis-backprop-1`")
    assert problem._repr_latex_().startswith("$$\n\\begin{aligned}")
    sol = solve(problem)
    check_markdown(sol._repr_markdown_())
    tex = sol._repr_latex_()
    assert tex.startswith("$$") and tex.endswith("$$")
    check_latex_structure(tex)
    assert "\\frac{\\partial f}{\\partial z} &= g" in tex


def test_solution_of_a_text_problem_renders(tmp_path):
    problem = load_text(RELU_NET)[0]
    sol = solve(problem, simplify=False)
    check_latex_structure(latex.solution(sol))
    assert "\\mathrm{a}\\left[z_{1}\\right]" in latex.solution(sol)
    check_markdown(markdown.solution(sol))


def test_new_commands_help_does_not_import_sympy():
    code = ("import sys; from deriv.cli import main\n"
            "for cmd in ('graph', 'plot'):\n"
            "    try:\n        main([cmd, '--help'])\n    except SystemExit:\n        pass\n"
            "print('sympy' in sys.modules, 'matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False False"


def test_a_plot_locates_sixty_kinks_bisected_together():
    """y = Σ relu(x − cₖ) for 60 kinks cₖ: every kink found where it is (bisected all at
    once), each a kink of slope step 1, and the pieces between them linear."""
    from deriv.plot import derivative_curve
    from deriv.problem import load_text
    centres = [round(-2.5 + 0.083 * k, 3) for k in range(60)]
    graph = "\n".join(f"r{k} = relu(x - {c})" for k, c in enumerate(centres))
    graph += "\ny = " + " + ".join(f"r{k}" for k in range(60))
    (p,) = load_text(f'[[problem]]\nid = "k"\ninputs = {{ x = "real" }}\noutput = "y"\n'
                     f'graph = """\n{graph}\n"""\n', "k.toml")
    curve = derivative_curve(p, "x", "x", -3.0, 3.0)
    assert [round(k.x, 9) for k in curve.kinks] == centres
    assert all(k.kind == "jump" and abs(k.right - k.left - 1) < 1e-6 for k in curve.kinks)
    assert all(piece.kind == "constant" for piece in curve.pieces)


def test_json_expressions_read_back_as_the_same_expressions():
    """The file syntax JSON carries (render.notation.source) reads back through deriv's parser
    to the expression printed: every claim of the catalog, and products whose operands need
    parentheses (@ binds as * does), a scalar sum times an elementwise product, a matrix's
    elementwise powers (X**k in a file is the matrix power)."""
    from deriv import algebra as A
    from deriv.parse import parse_expression
    from deriv.render.notation import source
    checked = 0
    from deriv.problem import d_reader
    for p in load_catalog():
        for c in p.claims:
            if c.expr is None:
                continue
            back = parse_expression(source(c.expr), p.graph.symbols, sizes=frozenset(
                p.graph.sizes), derivative=d_reader(p.graph, c.layout))
            assert back == c.expr or sp.simplify(back - c.expr) == 0, (p.id, c.id)
            checked += 1
    assert checked > 300
    names = {"H": A.symbol("H", ("N", "h")), "G": A.symbol("G", ("N", "k")),
             "a": A.symbol("a"), "b": A.symbol("b")}
    sizes = frozenset({"N", "h", "k"})
    for text in ("H.T @ (2*G - G) / 3", "H.T @ (2*G)", "(a + b)*hadamard(G, G)",
                 "G / hadamard(hadamard(G, G), G)", "H.T @ G / (a + b)", "1/G"):
        e = parse_expression(text, names, sizes=sizes)
        assert parse_expression(source(e), names, sizes=sizes) == e, (text, source(e))
