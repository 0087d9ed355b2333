"""Jupyter reprs: a Problem, a Solution and a Report show themselves as Markdown (and LaTeX).

Attached here, from the renderers' side, so the model never imports a renderer.
"""

from __future__ import annotations

from deriv.findings import Report
from deriv.problem import Problem
from deriv.render import latex, markdown
from deriv.solution import Solution


def attach():
    Problem._repr_markdown_ = lambda self: markdown.problem(self)
    Problem._repr_latex_ = lambda self: latex.problem_math(self)
    Solution._repr_markdown_ = lambda self: markdown.solution(self)
    Solution._repr_latex_ = lambda self: latex.solution_math(self)
    Report._repr_markdown_ = lambda self: markdown.report(self, self.problems)


attach()
