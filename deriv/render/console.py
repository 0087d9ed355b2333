"""Consoles: results to stdout, errors to stderr; colour only on a terminal, never with NO_COLOR."""

from __future__ import annotations

import os
import sys


def make(stderr: bool = False):
    from rich.console import Console
    stream = sys.stderr if stderr else sys.stdout
    no_color = "NO_COLOR" in os.environ
    tty = stream.isatty()
    # piped output is read in files and pagers: don't squeeze tables to 80 columns
    width = None if tty or "COLUMNS" in os.environ else 120
    return Console(file=stream, no_color=no_color, highlight=False, soft_wrap=True,
                   emoji=False, markup=False, width=width,
                   force_terminal=None if tty else False)

