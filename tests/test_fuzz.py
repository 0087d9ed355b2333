"""Fuzzing (issue 7): random text into the parser, random structures into the loader.

Whatever comes in, the only exception is DerivError, and a loader's DerivError names the file
and a line. CI runs the "ci" profile (a hundred examples per target, see
fuzz_strategies.py); `python fuzz/run.py` runs 10⁴ and more.
"""

from __future__ import annotations

import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from deriv.errors import DerivError
from deriv.parse import dref_of, parse_chain, parse_expression, parse_factors
from deriv.problem import load_text
from fuzz_strategies import (CI, DOCUMENT_TEXT, EXPRESSION_TEXT, LOADER_TEXT, SYMBOLS,
                             derivative, mutated_catalog)


def parse_any(text: str, claim: bool):
    """The parser's three entry points; returns what parse_expression made, or its error."""
    try:
        result = parse_expression(text, SYMBOLS, derivative=derivative if claim else None)
    except DerivError as err:
        assert err.line is not None and err.line >= 1 and (err.col is None or err.col >= 1)
        result = err
    try:
        parse_chain(text, set(SYMBOLS))
    except DerivError:
        pass
    try:
        parse_factors(text, SYMBOLS, derivative=derivative if claim else None)
    except DerivError:
        pass
    return result


def assert_sane(expr):
    """What gets through is a finite, real expression over known names only."""
    assert isinstance(expr, sp.Basic)
    assert not expr.has(sp.zoo, sp.nan, sp.oo, -sp.oo, sp.I)
    for s in expr.free_symbols:
        assert s in SYMBOLS.values() or dref_of(s) is not None, s


@CI
@given(EXPRESSION_TEXT, st.booleans())
def test_parser_raises_only_deriv_error(text, claim):
    result = parse_any(text, claim)
    if not isinstance(result, DerivError):
        assert_sane(result)


@CI
@given(st.text(max_size=80), st.booleans())
def test_parser_on_any_unicode(text, claim):
    parse_any(text, claim)


def load(text: str):
    """The problems, or the DerivError (which must name the file and a line)."""
    try:
        return load_text(text, "fuzz.toml")
    except DerivError as err:
        assert err.file == "fuzz.toml"
        assert err.line is not None and err.line >= 1, str(err)
        return err


@CI
@given(LOADER_TEXT)
def test_loader_raises_only_deriv_error(text):
    load(text)


@settings(CI, max_examples=max(1, CI.max_examples // 2))   # (also part of LOADER_TEXT)
@given(DOCUMENT_TEXT)
def test_loader_on_problem_shaped_structures(text):
    load(text)


@settings(CI, max_examples=max(1, CI.max_examples // 2))
@given(mutated_catalog())
def test_loader_on_edited_catalog_files(text):
    load(text)
