"""Consoles: results to stdout, errors to stderr; colour only on a terminal, never with NO_COLOR."""

from __future__ import annotations

import os
import sys


def make(stderr: bool = False):
    from rich.console import Console
    stream = sys.stderr if stderr else sys.stdout
    no_color = "NO_COLOR" in os.environ
    return Console(file=stream, no_color=no_color, highlight=False, soft_wrap=True,
                   emoji=False, markup=False,
                   force_terminal=None if stream.isatty() else False)
