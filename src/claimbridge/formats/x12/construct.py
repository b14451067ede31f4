"""Build frozen records quickly.

A frozen dataclass sets each field in ``__init__`` through
``object.__setattr__``, the slow, general path, because its own
``__setattr__`` refuses changes. With twenty fields that costs more than
reading the segment the record comes from, and an 837 reader builds
several records per claim. ``fast_constructor`` gives a function that
makes an instance of a mutable twin class with the very same slots,
stores each field directly, and then gives it the frozen class. The
result is an ordinary instance of the frozen class: equal, hashable and
immutable like any other; only its construction differs.

The constructor is a plain function, not the twin class: CPython 3.11
runs a Python function called from Python inside the caller's evaluation
loop, while calling a class goes through ``type.__call__`` and
``__init__`` in a fresh one (10-17% more per record, measured). Being a
function, it binds as a method when held by a class: keep it in a
``staticmethod`` there.

Arguments are positional, in field order, with the fields' defaults.
``__post_init__`` is not run, so this is for records without one.

``draft_constructor`` gives the same without the freezing, for a record
filled in over several segments (an 837 service line): the reader sets
its fields as they come and then gives it the frozen class, so the
record is never built twice.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["draft_constructor", "fast_constructor"]

T = TypeVar("T")


def fast_constructor(frozen: type[T]) -> Callable[..., T]:
    """A positional constructor of ``frozen``, a frozen, slotted dataclass."""
    return _twin(frozen, f"new_{frozen.__name__}", freezes=True)


def draft_constructor(frozen: type[T]) -> Callable[..., Any]:
    """A constructor of a mutable twin of ``frozen``: a record while it is read.

    Every field starts at its default (``None`` where it has none). Setting
    ``draft.__class__ = frozen``, once every field without a default has
    its value, makes the draft that record, with no copying.
    """
    return _twin(frozen, f"new_{frozen.__name__}_draft", freezes=False)


def _twin(frozen: type[T], name: str, *, freezes: bool) -> Callable[..., Any]:
    params = dataclasses.fields(frozen)  # type: ignore[arg-type]
    if not getattr(frozen, "__slots__", None) or hasattr(frozen, "__post_init__"):
        raise TypeError(f"{frozen.__name__} must be slotted and have no __post_init__")
    defaults: dict[str, Any] = {}
    for field in params:
        if field.default is not dataclasses.MISSING:
            defaults[field.name] = field.default
        elif not freezes:
            defaults[field.name] = None
    # The twin has the frozen class's slots in the same order, so CPython
    # accepts the change of class, and the plain ``__setattr__``.
    twin = dataclasses.make_dataclass(
        f"{frozen.__name__}Draft",
        [(field.name, field.type) for field in params],
        slots=True,
        init=False,
        eq=False,
        repr=False,
        match_args=False,
    )
    names = [field.name for field in params]
    signature = ", ".join(f"{n}=__default_{n}" if n in defaults else n for n in names)
    # ``twin()``, having no ``__init__`` of its own, is cheaper than
    # ``object.__new__(twin)``, which goes through a generic wrapper.
    body = "    self = __twin()\n" + "".join(f"    self.{n} = {n}\n" for n in names)
    if freezes:
        body += "    self.__class__ = __frozen\n"
    body += "    return self\n"
    namespace: dict[str, Any] = {"__frozen": frozen, "__twin": twin}
    namespace.update((f"__default_{n}", value) for n, value in defaults.items())
    exec(f"def {name}({signature}):\n{body}", namespace)  # noqa: S102 - field names only
    constructor: Callable[..., Any] = namespace[name]
    return constructor
