"""The runtime of the CEL macros (``map``, ``filter``, ``all``, ``exists``,
``exists_one``): the loop variable is bound in the frame's locals, shadowing and
then restoring an outer one of the same name, and a null predicate counts as
false."""

from __future__ import annotations

from typing import Any

from propolis.metadata.expressions.values import Eval, Frame, elements, truth

UNSET = object()  # a loop variable that shadows nothing


def macro_closure(
    name: str, var: str, receiver: Eval, bodies: list[Eval]
) -> Eval:
    """The closure running macro ``name`` over what ``receiver`` gives."""
    def run(frame: Frame) -> Any:
        coll = receiver(frame)
        if coll is None:
            return None
        items = elements(coll, name)
        scope = frame.locals
        saved = scope.get(var, UNSET)
        try:
            return _iterate(name, var, items, bodies, frame)
        finally:
            if saved is UNSET:
                scope.pop(var, None)
            else:
                scope[var] = saved

    return run


def _iterate(
    name: str, var: str, items: list[Any], bodies: list[Eval], frame: Frame
) -> Any:
    scope = frame.locals
    if name == "map":
        *pred, transform = bodies
        result = []
        for item in items:
            scope[var] = item
            if pred and not truth(pred[0](frame), "map"):
                continue
            result.append(transform(frame))
        return result
    (pred_fn,) = bodies
    if name == "filter":
        kept = []
        for item in items:
            scope[var] = item
            if truth(pred_fn(frame), "filter"):
                kept.append(item)
        return kept
    if name == "all":
        for item in items:
            scope[var] = item
            if not truth(pred_fn(frame), "all"):
                return False
        return True
    if name == "exists":
        for item in items:
            scope[var] = item
            if truth(pred_fn(frame), "exists"):
                return True
        return False
    count = 0  # exists_one
    for item in items:
        scope[var] = item
        count += truth(pred_fn(frame), "exists_one")
    return count == 1


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------
