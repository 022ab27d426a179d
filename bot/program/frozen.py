"""A quicker `__init__` for the frozen, slotted dataclasses the engine makes by the dozen.

A frozen dataclass's generated `__init__` stores each field with `object.__setattr__(self, name,
value)`, a generic attribute lookup per field; the engine builds about a dozen such values per
decision (messages, actions, the decision itself), and those stores were a quarter of its time.
`quick_init` swaps in an `__init__` that stores each field through its slot's descriptor directly.
Nothing else changes: same parameters, defaults and default factories, same resulting value, and
the instances stay frozen (assigning a field still raises FrozenInstanceError). (A program state,
with two dozen fields, is not slotted: `ProgramState.evolve` copies its dict in one step.)
"""

from __future__ import annotations

import inspect
from dataclasses import MISSING, fields, is_dataclass
from typing import Any, TypeVar

T = TypeVar("T")


class _Factory:
    """The default of a field with a default factory: make a fresh value (shown as dataclasses
    shows it)."""

    def __repr__(self) -> str:
        return "<factory>"


_FACTORY = _Factory()


def quick_init(cls: type[T]) -> type[T]:
    """Class decorator, placed above `@dataclass(frozen=True, slots=True)`."""
    if not (is_dataclass(cls) and "__slots__" in cls.__dict__):
        raise TypeError(f"{cls.__name__}: quick_init needs a slotted dataclass")
    generated = cls.__init__
    namespace: dict[str, Any] = {"_FACTORY": _FACTORY}
    params, body = [], []
    for f in fields(cls):
        if not f.init or f.kw_only:
            raise TypeError(f"{cls.__name__}.{f.name}: quick_init handles plain fields only")
        namespace[f"_store_{f.name}"] = cls.__dict__[f.name].__set__  # the slot's descriptor
        if f.default is not MISSING:
            namespace[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
        elif f.default_factory is not MISSING:
            namespace[f"_factory_{f.name}"] = f.default_factory
            params.append(f"{f.name}=_FACTORY")
            body.append(f"if {f.name} is _FACTORY: {f.name} = _factory_{f.name}()")
        else:
            params.append(f.name)
        body.append(f"_store_{f.name}(self, {f.name})")
    source = f"def __init__(self, {', '.join(params)}):\n    " + "\n    ".join(body or ["pass"])
    exec(source, namespace)  # as dataclasses itself builds __init__
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = generated.__doc__
    _check_same_parameters(cls, generated, init)
    cls.__init__ = init  # type: ignore[method-assign]
    return cls


def _check_same_parameters(cls: type, generated: Any, quick: Any) -> None:
    """Fail at import if the quick `__init__` would accept other arguments than the generated."""
    old = list(inspect.signature(generated).parameters.values())
    new = list(inspect.signature(quick).parameters.values())
    same = [p.name for p in old] == [p.name for p in new] and all(
        p.kind is q.kind
        and (p.default is q.default or (q.default is _FACTORY and repr(p.default) == "<factory>"))
        for p, q in zip(old, new, strict=True)
    )
    if not same:
        raise TypeError(f"{cls.__name__}: quick_init would change the constructor's parameters")
