"""The command line: parse options, call the library, hand data to a renderer.

Heavy modules (SymPy, NumPy, rich) are imported inside the commands, so `deriv --help`
stays fast. Exit status: 0 clean, 1 findings, 2 bad input or usage, 3 an internal error (a bug).
"""

from __future__ import annotations

import contextlib
import functools
import gc
import os
import sys

import click

from deriv.errors import DerivError

# SymPy's cache holds 1000 entries by default; a graph of a thousand nodes thrashes it and the
# sweep turns quadratic. Must be set before SymPy is imported (the commands import it lazily).
os.environ.setdefault("SYMPY_CACHE_SIZE", "20000")
MAX_SAMPLES = 10_000_000     # a batch's values stay within 256 MiB whatever is asked


def _fail(err: DerivError, status: int = 2):
    from deriv.escape import printable
    from deriv.render.console import make
    make(stderr=True).print(printable(str(err)), style="bold red")
    sys.exit(status)


def _echo(text: str, nl: bool = True):
    """A whole document (LaTeX, Markdown, JSON, DOT) to stdout: its line breaks kept, every
    other control character from a file escaped."""
    from deriv.escape import printable
    click.echo(printable(text, newlines=True), nl=nl)


_FRESH = []      # [True] once this process imported SymPy for its command: its collector is ours


def _import_frozen():
    """SymPy and NumPy imported with the cyclic collector paused, and what they made frozen
    (gc.freeze: never traversed again). Their import makes 110,000 tracked objects that live
    as long as the process: the collector ran 170 times over them (a tenth of the import),
    and each later full collection traversed them all again (with _loading, a catalog
    check spends a quarter of the time it did in collections). A library caller's process
    (SymPy already imported, as under CliRunner) keeps its collector as it is."""
    if "sympy" in sys.modules:
        return
    _FRESH.append(True)
    enabled = gc.isenabled()
    gc.disable()
    try:
        import numpy  # noqa: F401
        import sympy  # noqa: F401
        import sympy.tensor.tensor  # noqa: F401  (SymPy's Add imports it at its first sum)
    finally:
        gc.freeze()
        # a check makes short-lived SymPy and NumPy containers by the million: a young
        # collection every 700 of them was a tenth of the run; every 50,000 still frees cycles
        gc.set_threshold(50_000, 20, 100)
        if enabled:
            gc.enable()


@contextlib.contextmanager
def _loading():
    """The problems loaded live as long as the command: in a process of our own, they load
    with the collector paused and are frozen at once (re-enabled first, the collector
    traversed everything loaded in one full collection: a tenth of a 1,000-node graph's
    loading)."""
    if not _FRESH:
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


def reports_errors(command):
    """Bad input becomes `file:line:col: error: …` and exit 2, never a traceback."""
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            _import_frozen()
            return command(*args, **kwargs)
        except DerivError as err:
            _fail(err)
        except (click.exceptions.Exit, click.ClickException, SystemExit, KeyboardInterrupt):
            raise
        except Exception as err:  # noqa: BLE001  a bug in deriv: exit 3, as pytest does
            if os.environ.get("DERIV_DEBUG"):
                raise
            _fail(DerivError(f"internal error: {type(err).__name__}: {str(err)[:200]} — this "
                             "is a bug in deriv; please report it with the file and command "
                             "(DERIV_DEBUG=1 shows the traceback)"), 3)
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


def entry():
    """The console script: the command, then an exit that skips the interpreter's teardown.
    Freeing the heap of SymPy objects a check made, one by one, took a tenth of a second of
    a catalog run; the operating system frees the process at once. Only a process whose
    SymPy this command imported (a library caller's process exits as it likes)."""
    try:
        main()
        code = 0
    except SystemExit as done:
        code = done.code
    if not _FRESH:
        sys.exit(code)
    if isinstance(code, str):         # click's own message exits carry text
        click.echo(code, err=True)
        code = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, OSError):      # a reader that left (deriv check | head): the
        pass                                # command's own status stands
    os._exit(code or 0)


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
    make().print(text.catalog_table(load_catalog(_catalog_dirs(obj))))


@main.command()
@click.argument("target")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]),
              default="text", show_default=True)
@click.option("--id", "problem_id", metavar="ID", help="With a FILE of several problems: which one.")
@click.pass_obj
@reports_errors
def show(obj, target, fmt, problem_id):
    """Show a problem: question, inputs, graph and the claims as printed (every problem of a
    FILE, or the one --id names)."""
    from deriv.catalog import resolve
    problems = _narrow(resolve([target], _catalog_dirs(obj)), target, problem_id)
    if fmt == "json":
        from deriv.render import json as render_json
        _echo("\n".join(render_json.problem(p) for p in problems))
        return
    if fmt == "markdown":
        from deriv.render import markdown
        _echo("\n".join(markdown.problem(p) for p in problems), nl=False)
        return
    from deriv.render import text
    from deriv.render.console import make
    console = make()
    for problem in problems:
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
@click.option("--checkpoint", type=click.IntRange(1, 10_000), metavar="K", default=None,
              help="Gradient checkpointing storing every K-th node: what is stored and "
                   "recomputed, memory and evaluations, segment by segment.")
@click.option("--size", "size", multiple=True, metavar="NAME=N|NAME=LO:HI",
              help="Fix a size (n=3) or the range it is drawn from (n=2:6); repeatable.")
@click.pass_obj
@reports_errors
def solve(obj, target, mode, wrt, at, fmt, problem_id, checkpoint, size):
    """Derive a problem step by step: forward pass, then every chain-rule term with its value."""
    from deriv.solution import solve as run
    problems = [_one_problem(target, problem_id, obj, "solve")]
    if checkpoint is not None:
        _checkpoint(problems[0], checkpoint, fmt)
        return
    point = parse_at(at)
    from deriv.constraints import parse_size_options
    sizes = parse_size_options(size)
    solutions = [run(p, mode=mode, wrt=list(wrt) or None, at=point, sizes=sizes)
                 for p in problems]
    if fmt == "json":
        from deriv.render import json as render_json
        _echo("\n".join(render_json.solution(s) for s in solutions))
        return
    if fmt in ("latex", "markdown"):
        from deriv.render import latex, markdown
        render = latex.solution if fmt == "latex" else markdown.solution
        _echo("\n".join(render(s) for s in solutions), nl=False)
        return
    from deriv.checker import check_problem
    from deriv.render import text
    from deriv.render.console import make
    console = make()
    for i, s in enumerate(solutions):
        if i:
            console.print()
        # the document's claim beside each step (a problem without claims: nothing to draw)
        verdicts = check_problem(s.problem)[0] if s.problem.claims else []
        view = text.solution(s, text.claim_marks(verdicts, s.problem.display))
        if console.is_terminal or "\t" in view.plain:
            console.print(view)
        else:       # piped: the same characters, without rich's layout pass (a second a MB)
            click.echo(view.plain)


def _checkpoint(problem, every: int, fmt: str):
    from deriv.checkpoint import plan
    from deriv.render import checkpoint as render
    found = plan(problem.graph, every)
    if fmt == "latex":
        raise click.UsageError("--checkpoint writes text, json or markdown")
    if fmt in ("json", "markdown"):
        _echo(render.as_json(problem, found) if fmt == "json" else
              render.markdown(problem, found), nl=fmt == "json")
        return
    from deriv.render.console import make
    make().print(render.text(problem, found))


def _config():
    from deriv.config import load
    return load()


def _catalog_dirs(obj) -> list | None:
    """Where ids are looked up: --problems DIR, else [tool.deriv] problems, else the bundle."""
    if obj["problems"]:
        return [obj["problems"]]
    return _config().problems or None


@main.command()
@click.argument("targets", nargs=-1)
@click.option("--samples", type=click.IntRange(200, MAX_SAMPLES), default=None,
              help="Points sampled per problem  [default: 2000, or [tool.deriv] samples]")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=None,
              help="Seed of the sampler  [default: 0, or [tool.deriv] seed]")
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.option("--format", "fmt",
              type=click.Choice(["text", "json", "markdown", "github", "junit"]), default=None,
              help="json: every claim and error with file, line and column; github: workflow "
                   "annotations; junit: JUnit XML; markdown: per document, the errata found.")
@click.option("-k", "keyword", metavar="EXPRESSION",
              help="Only problems and claims whose file, problem id or claim id match, as "
                   "pytest's -k: substrings with not, and, or, parentheses.")
@click.option("-q", "--quiet", is_flag=True, help="Only failures and the summary.")
@click.option("--expect", "honour_expect", is_flag=True,
              help="Count every file's expect = \"fail\" markers (by default only the bundled "
                   "catalog's, or [tool.deriv] expect-markers: a student's file cannot excuse "
                   "its own wrong claim).")
@click.option("-v", "--verbose", is_flag=True, help="Show notes and coverage of every claim.")
@click.option("--strict", is_flag=True,
              help="Warnings fail: a printed intermediate off in a way no asked derivative sees, "
                   "and a pass whose points reached only some sides of its kinks.")
@click.option("--from-printed", is_flag=True,
              help="Read every claim from its printed LaTeX, ignoring the hand-written expr "
                   "and chain.")
@click.option("--sheet", "sheet_file", type=click.Path(dir_okay=False), metavar="FILE",
              help="Read the claims of one problem from a solution sheet (.tex, .md, .txt, "
                   ".ipynb) instead of the problem file.")
@click.option("--section", metavar="TEXT",
              help="With --sheet: the heading of the problem's part (default: its section).")
@click.option("--expect-markers", "expect_markers", multiple=True, metavar="PATTERN",
              help="Only files matching PATTERN (repeatable; relative to the current directory) "
                   "may mark claims expect = \"fail\"  [default: [tool.deriv] expect-markers, "
                   "else the bundled catalog only]")
@click.option("--size", "size", multiple=True, metavar="NAME=N|NAME=LO:HI",
              help="Fix a size (n=3) or the range it is drawn from (n=2:6); repeatable.")
@click.option("-j", "--jobs", type=click.IntRange(1, 64), default=None, metavar="N",
              help="Worker processes  [default: the machine's cores for a run of many claims; "
                   "1: all in this process]. The report is the same for any N.")
@click.pass_obj
@reports_errors
def check(obj, targets, samples, seed, honour_expect, as_json, fmt, keyword, quiet, verbose,
          strict, from_printed, sheet_file, section, expect_markers, size, jobs):
    """Check printed claims against the derived derivatives.

    TARGETS are problem files, directories of them and catalog ids, in any mix (default: the
    [tool.deriv] problems, else the whole catalog). A bad file is reported as
    file:line:col and the others are still checked. Exit status 2 if any input was bad, else
    1 when a claim fails unexpectedly or a known erratum passes, else 0; 3 for an internal
    error (a bug: please report it). Expect markers count in the bundled catalog, in the files
    --expect-markers (or [tool.deriv] expect-markers) name, or everywhere with --expect.
    """
    from pathlib import Path

    import numpy.ma  # noqa: F401  (np.median's; with the sampler's, imported here once, not
    import numpy.random  # noqa: F401  once a worker process)

    from deriv import batch
    from deriv.catalog import bundled_dir
    from deriv.checker import Options
    from deriv.constraints import parse_size_options
    sizes = parse_size_options(size)
    config = _config()
    fmt = fmt or ("json" if as_json else "text")
    dirs = [obj["problems"]] if obj["problems"] else config.problems or None
    with _loading():
        plan = batch.collect(list(targets) or [str(d) for d in dirs or [bundled_dir()]], dirs,
                             from_printed)
    notes: list[str] = []
    if sheet_file:
        from deriv.sheet import problems_from_sheet
        bad = [i.error for i in plan.inputs if i.error is not None]
        if bad and len(plan.problems) != 1:
            raise bad[0]                # (the file's own error, not "0 problems were named")
        plan.problems, notes = problems_from_sheet(plan.problems, sheet_file, section)
    if keyword:
        from deriv.selection import Selection
        plan = batch.select(plan, Selection(keyword))
        if not plan.claims and not plan.problems:
            raise DerivError(f"-k {keyword!r} selects no problem and no claim")
    if expect_markers:
        batch.ignore_expect(plan, list(expect_markers), Path.cwd())
    elif config.expect_markers is not None:
        batch.ignore_expect(plan, config.expect_markers, config.root)
    elif not honour_expect:          # by default only the bundled catalog's errata are known
        batch.ignore_expect(plan, [str(bundled_dir().resolve() / "*.toml")], Path.cwd())
    if sizes:
        batch.check_sizes(plan, sizes)
    options = Options(samples=samples or config.samples or 2000,
                      seed=seed if seed is not None else config.seed or 0, strict=strict,
                      sizes=sizes, jobs=jobs or 0)
    from deriv.render.progress import ClaimProgress
    with ClaimProgress(plan.claims) as advance:
        report = batch.run(plan, options, advance)
    for note in notes:
        from deriv.escape import printable
        click.echo(f"note: {printable(note)}", err=True)
    if fmt in ("text", "markdown"):
        _print_bad_inputs(report)
    if not plan.problems and fmt in ("text", "markdown") and len(report.inputs) <= 1:
        sys.exit(report.exit_code)      # nothing was checked: the error says it all
    if fmt == "markdown":
        from deriv.render import markdown
        ordered = batch.by_document(report)
        _echo(markdown.report(ordered, ordered.problems), nl=False)
    elif fmt == "json":
        from deriv.render import json as render_json
        _echo(render_json.report(report))
    elif fmt in ("github", "junit"):
        from deriv.render import ci, text
        _echo(ci.junit(report) if fmt == "junit" else
                   ci.github(report, text.summary_line(report).plain), nl=False)
    else:
        from deriv.render import text
        from deriv.render.console import make
        make().print(text.report(report, plan.problems, verbose, quiet))
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
    from deriv.escape import printable
    result = draft_file(sheet_file, section, functions)
    for note in result.notes:          # (the sheet's own text: escaped for the terminal)
        click.echo(f"note: {printable(note)}", err=True)
    if out:
        with open(out, "w", encoding="utf-8") as f:
            f.write(result.text)
        click.echo(f"wrote {printable(out)}: {result.summary()}")
    else:
        _echo(result.text, nl=False)
        click.echo(result.summary(), err=True)


def _print_bad_inputs(report):
    from deriv.render.console import make
    from deriv.render.safe import clean
    console = make(stderr=True)
    for i in report.bad_inputs:
        if i.error is not None:
            console.print(clean(str(i.error)), style="bold red")
        else:
            console.print(f"{clean(i.file)}: warning: {i.warning}", style="yellow")


def _narrow(problems: list, target: str, problem_id: str | None) -> list:
    if problem_id:
        chosen = [p for p in problems if p.id == problem_id]
        if not chosen:
            raise DerivError(f"no problem '{problem_id}' in {target}; it holds "
                             f"{_ids(problems)}")
        return chosen
    return problems


def _ids(problems) -> str:
    ids = [p.id for p in problems]
    return ", ".join(ids[:30]) + (f" and {len(ids) - 30} more" if len(ids) > 30 else "")


def _one_problem(target: str, problem_id: str | None, obj, what: str):
    """The problem TARGET names (an id, or a FILE narrowed by --id)."""
    from deriv.catalog import resolve
    with _loading():
        problems = _narrow(resolve([target], _catalog_dirs(obj)), target, problem_id)
    if len(problems) != 1:
        raise DerivError(f"{target} holds {len(problems)} problems: {_ids(problems)}; "
                         f"{what} one with --id ID")
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
    picture = annotate(_one_problem(target, problem_id, obj, "draw"), parse_at(at))
    if out or fmt == "dot":
        from deriv.render import dot
        text = dot.dot(picture)
        if not out:
            _echo(text, nl=False)
            return
        _echo(f"wrote {dot.render(text, out)}")
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
    problem = _one_problem(target, problem_id, obj, "plot")
    name, lo, hi = parse_over(over)
    curve = derivative_curve(problem, wrt, name, lo, hi, at=parse_at(at))
    if out:
        from deriv.render import figure
        _echo(f"wrote {figure.save(curve, out)}")
        for i, kink in enumerate(curve.kinks, start=1):
            _echo(f"  {i}  {textplot.kink_label(curve, kink)}")
        return
    from deriv.render.console import make
    make().print(textplot.plot(curve))


if __name__ == "__main__":  # pragma: no cover
    main()
