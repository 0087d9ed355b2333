"""Gradient checkpointing as data: which forward values a reverse sweep keeps, which it
recomputes, and what that costs in memory and in evaluations, segment by segment.

The forward pass stores every K-th node (in the graph's order) and drops the others; the
reverse sweep goes through the segments from the last, and before each it recomputes that
segment's dropped values from the nearest stored ones (a dropped parent outside the segment
is recomputed too). Inputs are always at hand and are not counted. Without checkpointing every
node is stored: memory N, evaluations N.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Segment:
    nodes: tuple[str, ...]          # the nodes the reverse sweep goes through, in graph order
    recomputed: tuple[str, ...]     # dropped values recomputed before it, in order
    sources: tuple[str, ...]        # the stored values the recomputation starts from
    memory: int                     # values held while it runs: stored + recomputed


@dataclass
class Plan:
    every: int
    nodes: int                      # forward-pass nodes (N)
    stored: tuple[str, ...]
    segments: list[Segment] = field(default_factory=list)   # in the order the sweep meets them

    @property
    def recomputed(self) -> int:
        return sum(len(s.recomputed) for s in self.segments)

    @property
    def evaluations(self) -> int:
        """Node evaluations: the forward pass, then every recomputation."""
        return self.nodes + self.recomputed

    @property
    def peak(self) -> int:
        return max([len(self.stored)] + [s.memory for s in self.segments])

    def count(self, quantity: str) -> int:
        return {"stored": len(self.stored), "recomputed": self.recomputed,
                "evaluations": self.evaluations, "peak": self.peak}[quantity]


def plan(graph, every: int) -> Plan:
    """The checkpointing plan of a graph that stores every `every`-th node."""
    if every < 1:
        raise ValueError("checkpoint every K ≥ 1 nodes")
    order = list(graph.order)
    stored = tuple(n for i, n in enumerate(order) if (i + 1) % every == 0)
    kept = set(stored)
    out = Plan(every, len(order), stored)
    for start in reversed(range(0, len(order), every)):
        nodes = order[start:start + every]
        recomputed: list[str] = []
        sources: list[str] = []
        have = set(kept)

        def need(name: str):
            """The value of `name` in memory: stored, an input, or recomputed (parents first)."""
            if name in have or name not in graph.nodes:
                if name in kept and name not in sources and name not in nodes:
                    sources.append(name)
                return
            for parent in graph.parents(name):
                need(parent)
            have.add(name)
            recomputed.append(name)
        for name in nodes:          # a node's VJP reads its parents' values (its partials are
            for parent in graph.parents(name):      # functions of them)
                need(parent)
        out.segments.append(Segment(tuple(nodes), tuple(recomputed), tuple(sources),
                                    len(stored) + len(recomputed)))
    return out
