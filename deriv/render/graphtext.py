"""The annotated graph in the terminal: one layer per depth, inputs first, output last.

    layer 1
      g = x + y          g = 3        ∂f/∂g = -4
        ◀ x   ∂g/∂x = 1 = 1
        ◀ y   ∂g/∂y = 1 = 1
          │
          ▼

Each node shows its definition, forward value (cyan) and adjoint (magenta); under it, its
incoming edges with their local partials. Data in (deriv.annotate.Picture), rich Text out.
"""

from __future__ import annotations

from rich.console import Group
from rich.cells import cell_len
from rich.text import Text

from deriv.names import partial, pretty
from deriv.render.notation import number, text as math
from deriv.render.text import heading, point_text

VALUE_STYLE = "cyan"
ADJOINT_STYLE = "magenta"


def drawing(picture) -> Group:
    p = picture.problem
    d = p.display
    out: list = []
    out.append(heading(p))
    out.append(Text(f"point:  {point_text(picture.point, d)}   ({picture.point_source})"))
    key = Text("shown:  definition, ")
    key.append("forward value", style=VALUE_STYLE)
    key.append(", ")
    key.append(f"adjoint ∂{pretty(picture.output, d)}/∂·", style=ADJOINT_STYLE)
    key.append(";  ◀ incoming edges with their local partials")
    out.append(key)
    layers = picture.layers
    for depth, layer in enumerate(layers):
        label = "inputs" if depth == 0 else f"layer {depth}"
        if any(n.is_output for n in layer):
            label += " · output"
        out.append(Text(""))
        out.append(Text(label, style="bold underline"))
        rows = []
        for node in layer:
            name = pretty(node.name, d)
            definition = f"{name} = {math(node.expr, d)}" if node.expr is not None \
                else f"{name}  (input)"
            value = f"{name} = {number(node.value)}"
            adjoint = (f"{partial(picture.output, node.name, d)} = {number(node.adjoint)}"
                       if node.adjoint is not None else None)
            incoming = picture.incoming(node.name)
            width = max((cell_len(pretty(e.parent, d)) for e in incoming), default=0)
            edges = []
            for edge in incoming:
                parent = pretty(edge.parent, d)
                local = partial(edge.child, edge.parent, d)
                if not edge.local.is_Number:
                    local += " = " + math(edge.local, d)
                local += " = " + number(edge.value)
                edges.append(f"    ◀ {parent}{' ' * (width - cell_len(parent))}   {local}")
            rows.append((definition, value, adjoint, edges))
        w1 = max(cell_len(r[0]) for r in rows) + 3
        w2 = max(cell_len(r[1]) for r in rows) + 3
        for definition, value, adjoint, edges in rows:
            line = Text("  ")
            line.append(definition, style="bold")
            line.append(" " * (w1 - cell_len(definition)))
            line.append(value, style=VALUE_STYLE)
            line.append(" " * (w2 - cell_len(value)))
            if adjoint is not None:
                line.append(adjoint, style=ADJOINT_STYLE)
            else:
                line.append("(no path to the output)", style="dim")
            out.append(line)
            for e in edges:
                out.append(Text(e, style="dim"))
        if depth + 1 < len(layers):
            out.append(Text("      │\n      ▼", style="dim"))
    return Group(*out)
