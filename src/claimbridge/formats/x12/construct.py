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
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["fast_constructor"]

T = TypeVar("T")


def fast_constructor(frozen: type[T]) -> Callable[..., T]:
    """A positional constructor of ``frozen``, a frozen, slotted dataclass."""
    params = dataclasses.fields(frozen)  # type: ignore[arg-type]
    if not getattr(frozen, "__slots__", None) or hasattr(frozen, "__post_init__"):
        raise TypeError(f"{frozen.__name__} must be slotted and have no __post_init__")
    spec: list[Any] = []
    for field in params:
        if field.default is not dataclasses.MISSING:
            spec.append((field.name, field.type, dataclasses.field(default=field.default)))
        else:
            spec.append((field.name, field.type))
    twin = dataclasses.make_dataclass(
        f"_{frozen.__name__}Twin", spec, slots=True, eq=False, repr=False, match_args=False
    )
    # The twin's own ``__init__`` stores each field, then gives the record
    # the frozen class: the twin has the same slots in the same order, so
    # CPython accepts the change. Calling the twin is then the whole
    # construction, with no wrapper frame.
    names = [field.name for field in params]
    signature = ", ".join(
        f"{name}=__default_{name}" if field.default is not dataclasses.MISSING else name
        for name, field in zip(names, params, strict=True)
    )
    body = "".join(f"    self.{name} = {name}\n" for name in names)
    source = f"def __init__(self, {signature}):\n{body}    self.__class__ = __frozen\n"
    namespace: dict[str, Any] = {"__frozen": frozen}
    for field in params:
        if field.default is not dataclasses.MISSING:
            namespace[f"__default_{field.name}"] = field.default
    exec(source, namespace)  # noqa: S102 - the source is built from field names only
    twin.__init__ = namespace["__init__"]  # type: ignore[misc]
    twin.__name__ = twin.__qualname__ = f"new_{frozen.__name__}"
    return twin  # type: ignore[return-value]
