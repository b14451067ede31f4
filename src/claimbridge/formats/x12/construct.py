"""Build frozen records quickly.

A frozen dataclass sets each field in ``__init__`` through
``object.__setattr__``, the slow, general path, because its own
``__setattr__`` refuses changes. With twenty fields that costs more than
reading the segment the record comes from, and an 837 reader builds
several records per claim. ``fast_constructor`` builds an instance of a
mutable twin class with the very same slots (whose ``__init__`` stores
each field directly) and then gives it the frozen class. The result is an
ordinary instance of the frozen class: equal, hashable and immutable like
any other; only its construction differs.

Arguments are positional, in field order, with the fields' defaults.
``__post_init__`` is not run, so this is for records without one.

``draft_class`` gives the twin itself, for a record filled in over several
segments (an 837 service line): the reader sets its fields as they come
and then gives it the frozen class, so the record is never built twice.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["draft_class", "fast_constructor"]

T = TypeVar("T")


def fast_constructor(frozen: type[T]) -> Callable[..., T]:
    """A positional constructor of ``frozen``, a frozen, slotted dataclass."""
    return _twin(frozen, f"new_{frozen.__name__}", freezes=True)


def draft_class(frozen: type[T]) -> Callable[..., Any]:
    """A mutable class with the very slots of ``frozen``: a record while it is read.

    Every field starts at its default (``None`` where it has none). Setting
    ``draft.__class__ = frozen``, once every field without a default has
    its value, makes the draft that record, with no copying.
    """
    return _twin(frozen, f"{frozen.__name__}Draft", freezes=False)


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
    twin = dataclasses.make_dataclass(
        f"_{frozen.__name__}Twin",
        [(field.name, field.type) for field in params],
        slots=True,
        eq=False,
        repr=False,
        match_args=False,
    )
    # The twin's own ``__init__`` stores each field directly; a constructor's
    # then gives the record the frozen class (the twin has the same slots in
    # the same order, so CPython accepts the change). Calling the twin is
    # then the whole construction, with no wrapper frame.
    names = [field.name for field in params]
    signature = ", ".join(f"{n}=__default_{n}" if n in defaults else n for n in names)
    body = "".join(f"    self.{n} = {n}\n" for n in names)
    if freezes:
        body += "    self.__class__ = __frozen\n"
    namespace: dict[str, Any] = {"__frozen": frozen}
    namespace.update((f"__default_{n}", value) for n, value in defaults.items())
    exec(f"def __init__(self, {signature}):\n{body}", namespace)  # noqa: S102 - field names only
    twin.__init__ = namespace["__init__"]  # type: ignore[misc]
    twin.__name__ = twin.__qualname__ = name
    return twin
