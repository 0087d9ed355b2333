"""The command line: parse options, call the library, hand data to a renderer.

Heavy modules (SymPy, NumPy, rich) are imported inside the commands, so `deriv --help`
stays fast. Exit status: 0 clean, 1 findings, 2 bad input or usage.
"""

from __future__ import annotations

import functools
import os
import sys

import click

from deriv.errors import DerivError

# SymPy's cache holds 1000 entries by default; a graph of a thousand nodes thrashes it and the
# sweep turns quadratic. Must be set before SymPy is imported (the commands import it lazily).
os.environ.setdefault("SYMPY_CACHE_SIZE", "20000")


def _fail(err: DerivError):
    from deriv.render.console import make
    make(stderr=True).print(str(err), style="bold red")
    sys.exit(2)


def reports_errors(command):
    """Bad input becomes `file:line:col: error: …` and exit 2, never a traceback."""
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except DerivError as err:
            _fail(err)
        except (click.exceptions.Exit, click.ClickException, SystemExit, KeyboardInterrupt):
            raise
        except Exception as err:  # a crash is still exit 2, with a short message
            if os.environ.get("DERIV_DEBUG"):
                raise
            _fail(DerivError(f"internal error: {type(err).__name__}: {err} "
                             "(set DERIV_DEBUG=1 for a traceback)"))
    return wrapper


def parse_at(values: tuple[str, ...]) -> dict[str, float]:
    point = {}
    for item in values:
        name, sep, number = item.partition("=")
        try:
            if not sep:
                raise ValueError
            value = float(number)
            if value != value or value in (float("inf"), float("-inf")):
                raise ValueError
            point[name.strip()] = value
        except ValueError:
            raise DerivError(f"--at takes NAME=NUMBER with a finite number, not {item!r}") \
                from None
    return point


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="deriv")
@click.option("--problems", "problems_dir", type=click.Path(file_okay=False),
              help="Use the problem files in DIR instead of the bundled catalog.")
@click.pass_context
def main(ctx, problems_dir):
    """Derive derivatives step by step over computational graphs, and check the
    derivative formulas printed in course material.

    \b
    deriv list                 the bundled catalog
    deriv solve problem-7.12   forward pass and every chain-rule step
    deriv check                audit every printed formula of the catalog
    """
    ctx.obj = {"problems": problems_dir}


@main.command("list")
@click.pass_obj
@reports_errors
def list_(obj):
    """List the problems of the catalog."""
    from deriv.catalog import load_catalog
    from deriv.render import text
    from deriv.render.console import make
    make().print(text.catalog_table(load_catalog(obj["problems"])))


@main.command()
@click.argument("target")
@click.pass_obj
@reports_errors
def show(obj, target):
    """Show a problem: question, inputs, graph and the claims as printed."""
    from deriv.catalog import resolve
    from deriv.render import text
    from deriv.render.console import make
    console = make()
    for problem in resolve([target], obj["problems"]):
        console.print(text.problem_view(problem))


@main.command()
@click.argument("target")
@click.option("--mode", type=click.Choice(["forward", "reverse", "both"]),
              help="Sweep direction (default: the problem's own).")
@click.option("--wrt", multiple=True, metavar="NAME",
              help="Derivative with respect to NAME (repeatable; default: what the problem asks).")
@click.option("--at", "at", multiple=True, metavar="NAME=VALUE",
              help="Evaluate at this point (default: the document's point, else a seeded one).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "latex", "markdown"]),
              default="text", show_default=True,
              help="latex: an align* fragment (amsmath, amssymb); markdown: $$ … $$ per step.")
@click.option("--id", "problem_id", metavar="ID", help="With a FILE of several problems: which one.")
@click.pass_obj
@reports_errors
def solve(obj, target, mode, wrt, at, fmt, problem_id):
    """Derive a problem step by step: forward pass, then every chain-rule term with its value."""
    from deriv.catalog import resolve
    from deriv.solution import solve as run
    problems = resolve([target], obj["problems"])
    if problem_id:
        problems = [p for p in problems if p.id == problem_id]
        if not problems:
            raise DerivError(f"no problem '{problem_id}' in {target}")
    point = parse_at(at)
    solutions = [run(p, mode=mode, wrt=list(wrt) or None, at=point) for p in problems]
    if fmt == "json":
        from deriv.render import json as render_json
        click.echo("\n".join(render_json.solution(s) for s in solutions))
        return
    if fmt in ("latex", "markdown"):
        from deriv.render import latex, markdown
        render = latex.solution if fmt == "latex" else markdown.solution
        click.echo("\n".join(render(s) for s in solutions), nl=False)
        return
    from deriv.checker import check_problem
    from deriv.render import text
    from deriv.render.console import make
    console = make()
    for i, s in enumerate(solutions):
        if i:
            console.print()
        verdicts, _ = check_problem(s.problem)  # the document's claim beside each step
        console.print(text.solution(s, text.claim_marks(verdicts, s.problem.display)))


@main.command()
@click.argument("targets", nargs=-1)
@click.option("--samples", type=click.IntRange(200, 10_000_000), default=2000, show_default=True,
              help="Points sampled per problem.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the sampler.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object instead of text.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default=None,
              help="markdown: per document, claims checked and errata with their diagnosis.")
@click.option("-v", "--verbose", is_flag=True, help="Show notes and coverage of every claim.")
@click.option("--strict", is_flag=True,
              help="Warnings (a printed intermediate off in a way no asked derivative sees) fail.")
@click.option("--from-printed", is_flag=True,
              help="Read every claim from its printed LaTeX, ignoring the hand-written expr "
                   "and chain.")
@click.option("--sheet", "sheet_file", type=click.Path(dir_okay=False), metavar="FILE",
              help="Read the claims of one problem from a solution sheet (.tex, .md, .txt, "
                   ".ipynb) instead of the problem file.")
@click.option("--section", metavar="TEXT",
              help="With --sheet: the heading of the problem's part (default: its section).")
@click.pass_obj
@reports_errors
def check(obj, targets, samples, seed, as_json, fmt, verbose, strict, from_printed, sheet_file,
          section):
    """Check printed claims against the derived derivatives.

    TARGETS are problem ids or problem files (default: the whole catalog). Exit status 0 when
    every outcome is as the files expect, 1 when a claim fails unexpectedly or a known
    erratum passes, 2 for bad input.
    """
    from deriv.catalog import resolve
    from deriv.checker import Options, check as run
    problems = resolve(list(targets), obj["problems"], from_printed=from_printed)
    notes: list[str] = []
    if sheet_file:
        from deriv.sheet import problems_from_sheet
        problems, notes = problems_from_sheet(problems, sheet_file, section)
    report = run(problems, Options(samples=samples, seed=seed, strict=strict))
    for note in notes:
        click.echo(f"note: {note}", err=True)
    if fmt == "markdown":
        from deriv.render import markdown
        click.echo(markdown.report(report, problems), nl=False)
    elif as_json or fmt == "json":
        from deriv.render import json as render_json
        click.echo(render_json.report(report))
    else:
        from deriv.render import text
        from deriv.render.console import make
        make().print(text.report(report, problems, verbose))
    sys.exit(report.exit_code)


@main.command(name="import")
@click.argument("sheet_file", metavar="FILE", type=click.Path(dir_okay=False))
@click.option("--section", metavar="TEXT", help="The heading of the part to read, e.g. "
              "'Problem 7.12' (default: the whole sheet).")
@click.option("--function", "functions", multiple=True, metavar="SYMBOL=NAME",
              help="The sheet's own notation, e.g. a=relu (repeatable).")
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False), metavar="FILE",
              help="Write the problem file here (default: print it).")
@reports_errors
def import_(sheet_file, section, functions, out):
    """Draft a problem file from a solution sheet: the graph from its forward pass, the
    inputs, and every derivative it prints as a claim; what it could not read is marked in
    comments. Review the draft, then `deriv check` it."""
    from deriv.draft import draft_file
    result = draft_file(sheet_file, section, functions)
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    if out:
        with open(out, "w", encoding="utf-8") as f:
            f.write(result.text)
        click.echo(f"wrote {out}: {result.summary()}")
    else:
        click.echo(result.text, nl=False)
        click.echo(result.summary(), err=True)


def _one_problem(target: str, problem_id: str | None, directory, what: str):
    """The problem TARGET names (an id, or a FILE narrowed by --id)."""
    from deriv.catalog import resolve
    problems = resolve([target], directory)
    if problem_id:
        problems = [p for p in problems if p.id == problem_id]
        if not problems:
            raise DerivError(f"no problem '{problem_id}' in {target}")
    if len(problems) != 1:
        raise DerivError(f"{target} holds {len(problems)} problems ("
                         f"{', '.join(p.id for p in problems[:6])}); {what} one: add --id ID")
    return problems[0]


@main.command()
@click.argument("target")
@click.option("--format", "fmt", type=click.Choice(["text", "dot"]), default="text",
              show_default=True, help="dot: Graphviz DOT text.")
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False), metavar="FILE",
              help="Draw with Graphviz into FILE.svg, .png or .pdf (FILE.dot: the DOT text).")
@click.option("--at", "at", multiple=True, metavar="NAME=VALUE",
              help="Evaluate at this point (default: the document's point, else a seeded one).")
@click.option("--id", "problem_id", metavar="ID", help="With a FILE of several problems: which one.")
@click.pass_obj
@reports_errors
def graph(obj, target, fmt, out, at, problem_id):
    """Draw the computational graph: nodes by depth, each with its definition, forward value
    and adjoint, every edge with its local partial."""
    from deriv.annotate import annotate
    picture = annotate(_one_problem(target, problem_id, obj["problems"], "draw"), parse_at(at))
    if out or fmt == "dot":
        from deriv.render import dot
        text = dot.dot(picture)
        if not out:
            click.echo(text, nl=False)
            return
        click.echo(f"wrote {dot.render(text, out)}")
        return
    from deriv.render import graphtext
    from deriv.render.console import make
    make().print(graphtext.drawing(picture))


@main.command()
@click.argument("target")
@click.option("--wrt", required=True, metavar="NAME", help="Plot ∂output/∂NAME.")
@click.option("--over", required=True, metavar="NAME=LO:HI",
              help="The input that varies and its range, e.g. x=-3:3.")
@click.option("--at", "at", multiple=True, metavar="NAME=VALUE",
              help="Values of the other inputs (default: the document's point, else seeded).")
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False), metavar="FILE",
              help="Draw with matplotlib into FILE.png, .svg or .pdf (pip install 'deriv[plot]').")
@click.option("--id", "problem_id", metavar="ID", help="With a FILE of several problems: which one.")
@click.pass_obj
@reports_errors
def plot(obj, target, wrt, over, at, out, problem_id):
    """Plot a derivative as a function of one input, with every jump and kink located and
    the value or slope of each piece."""
    from deriv.plot import derivative_curve, parse_over
    from deriv.render import textplot
    problem = _one_problem(target, problem_id, obj["problems"], "plot")
    name, lo, hi = parse_over(over)
    curve = derivative_curve(problem, wrt, name, lo, hi, at=parse_at(at))
    if out:
        from deriv.render import figure
        click.echo(f"wrote {figure.save(curve, out)}")
        for i, kink in enumerate(curve.kinks, start=1):
            click.echo(f"  {i}  {textplot.kink_label(curve, kink)}")
        return
    from deriv.render.console import make
    make().print(textplot.plot(curve))


if __name__ == "__main__":  # pragma: no cover
    main()
