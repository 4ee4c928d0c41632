"""What hypothesis generates for the fuzz tests: JSON values, and one thing wrong in a valid document."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=10,
)
odd_values = json_values | st.just("x" * 100_000) | st.integers(max_value=-1) | st.just(2**70) | st.just(1.5)


def paths(document: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key and index path inside a JSON document, depth first (the root excluded)."""
    found: list[tuple[Any, ...]] = []
    children = (
        document.items() if isinstance(document, dict) else enumerate(document) if isinstance(document, list) else ()
    )
    for key, child in children:
        found.append((*prefix, key))
        found += paths(child, (*prefix, key))
    return found


@dataclass(frozen=True)
class OneThingWrong:
    """Drawn before the document is known (it may be a server's answer, built in another thread):
    the field is the `where`-th path of the document, modulo how many it has."""

    where: int
    action: Literal["delete", "null", "replace"]
    value: Any

    def apply(self, document: Any) -> Any:
        broken = json.loads(json.dumps(document))
        every = paths(broken)
        if not every:
            return self.value
        path = every[self.where % len(every)]
        parent = broken
        for key in path[:-1]:
            parent = parent[key]
        if self.action == "delete":
            del parent[path[-1]]
        else:
            parent[path[-1]] = None if self.action == "null" else self.value
        return broken

    def describe(self, document: Any) -> str:
        """What `apply` did to this document (the path is chosen before it is known)."""
        every = paths(document)
        path = ".".join(map(str, every[self.where % len(every)])) if every else "(the whole document)"
        return f"{path}: {self.action} {str(self.value)[:60] if self.action == 'replace' else ''}"


one_thing_wrong = st.builds(
    OneThingWrong, where=st.integers(0, 10_000), action=st.sampled_from(["delete", "null", "replace"]), value=odd_values
)


def whole_runs(examples: int, *, shrink: bool = True) -> settings:
    """Settings for examples that each go through the real handlers on one test's stack and sandbox
    (function-scoped fixtures shared by every example, no deadline, the same examples each run).
    Without `shrink`, a failing example is shown as generated: shrinking one of whole import runs
    costs minutes."""
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        phases=list(Phase) if shrink else [Phase.explicit, Phase.generate],
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    )
