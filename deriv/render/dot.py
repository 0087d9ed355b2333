"""Graphviz DOT of an annotated graph (deriv.annotate.Picture), and rendering it with `dot`.

Each node shows its name, definition, forward value (blue) and adjoint ∂output/∂node (red, the
backward pass); each edge its local partial ∂child/∂parent and that partial's value. Nodes of
one depth share a rank, so the picture reads inputs → output, left to right.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from deriv.errors import DerivError
from deriv.names import partial, pretty
from deriv.render.notation import number, text as math

VALUE_COLOUR = "#1f5fbf"       # forward pass
ADJOINT_COLOUR = "#c0282d"     # backward pass
FORMATS = ("svg", "png", "pdf")
INSTALL_HINT = ("Graphviz's `dot` program is needed to draw {what}; install Graphviz "
                "(Debian/Ubuntu: `sudo apt-get install graphviz`, macOS: `brew install graphviz`, "
                "Windows: `winget install graphviz`, or https://graphviz.org/download/). "
                "Without it, `deriv graph ID --format dot` prints the DOT text and "
                "`-o FILE.dot` writes it.")


def html(text: str) -> str:
    """Text for a Graphviz HTML-like label."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def quote(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def node_label(picture, node) -> str:
    d = picture.problem.display
    name = pretty(node.name, d)
    if node.is_input:
        head = f"<b>{html(name)}</b> <i>input</i>"
    else:
        head = f"<b>{html(name)}</b> = {html(math(node.expr, d))}"
    rows = [head, f'<font color="{VALUE_COLOUR}">{html(name)} = {html(number(node.value))}</font>']
    if node.adjoint is not None:
        rows.append(f'<font color="{ADJOINT_COLOUR}">'
                    f'{html(partial(picture.output, node.name, d))} = '
                    f'{html(number(node.adjoint))}</font>')
    return "<" + "<br/>".join(rows) + ">"


def edge_label(picture, edge) -> str:
    d = picture.problem.display
    text = partial(edge.child, edge.parent, d)
    if not edge.local.is_Number:
        text += " = " + math(edge.local, d)
    text += " = " + number(edge.value)
    return "<" + html(text) + ">"


def dot(picture) -> str:
    p = picture.problem
    d = p.display
    items = [f"{pretty(k, d)} = {number(v)}" for k, v in picture.point.items()]
    point = "<br/>".join(html(", ".join(items[i:i + 8])) for i in range(0, len(items), 8))
    title = (f"<<b>{html(p.id)}</b>  {html(p.title)}<br/>"
             f'at {point}<br/><font color="{VALUE_COLOUR}">forward values</font> · '
             f'<font color="{ADJOINT_COLOUR}">adjoints ∂{html(pretty(picture.output, d))}/∂·</font>>')
    lines = [f"digraph {quote(p.id)} {{",
             f'  graph [rankdir=LR, labelloc=t, bgcolor="white", fontname="DejaVu Sans", fontsize=12, '
             f'nodesep=0.3, ranksep=0.6, label={title}];',
             '  node [shape=box, style="rounded,filled", fillcolor="#f7f7f7", '
             'fontname="DejaVu Sans", fontsize=11];',
             '  edge [fontname="DejaVu Sans", fontsize=9, color="#555555"];']
    for node in picture.nodes.values():
        extra = ', fillcolor="#eef3fb"' if node.is_input else \
            (', penwidth=2' if node.is_output else "")
        lines.append(f"  {quote(node.name)} [label={node_label(picture, node)}{extra}];")
    for edge in picture.edges:
        lines.append(f"  {quote(edge.parent)} -> {quote(edge.child)} "
                     f"[label={edge_label(picture, edge)}];")
    for layer in picture.layers:
        if len(layer) > 1:
            lines.append("  { rank=same; " + " ".join(quote(n.name) + ";" for n in layer) + " }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(dot_text: str, path: str | Path) -> Path:
    """Write `dot_text` drawn by Graphviz to `path` (.svg, .png or .pdf; .dot/.gv: the text)."""
    path = Path(path)
    suffix = path.suffix.lower().lstrip(".")
    if suffix in ("dot", "gv"):
        path.write_text(dot_text, encoding="utf-8")
        return path
    if suffix not in FORMATS:
        raise DerivError(f"-o {path}: the picture is .svg, .png or .pdf (or .dot for the text)")
    exe = shutil.which("dot")
    if exe is None:
        raise DerivError(INSTALL_HINT.format(what=path.name))
    try:
        extra = ["-Gdpi=110"] if suffix == "png" else []      # sharper than Graphviz's 72
        done = subprocess.run([exe, f"-T{suffix}", *extra, "-o", str(path)],
                              input=dot_text.encode(),
                              capture_output=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise DerivError(f"Graphviz failed on {path}: {err}") from None
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip().splitlines()
        raise DerivError(f"Graphviz failed on {path}: " + (message[-1] if message else
                                                           f"exit status {done.returncode}"))
    return path
