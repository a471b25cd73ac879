"""Small value classes without :mod:`dataclasses`, for the modules every ``dtm search`` imports.

``dataclasses`` costs about a millisecond to import and each class compiles its generated
methods when it is created (0.2–0.5 ms apiece): most of a cold search over the bundled index.
These bases share one set of methods instead. Subclasses write ``__init__`` themselves (so
constructor keywords and positions stay explicit) and list their fields in ``_fields``.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = ["Frozen", "Record", "fill"]


def fill(record: Record, *values: Any) -> None:
    """Set ``record``'s ``_fields`` to ``values``, in order, past :meth:`Frozen.__setattr__`."""
    for name, value in zip(record._fields, values, strict=True):
        object.__setattr__(record, name, value)


class Record:
    """Equal by ``_fields`` (to an object of the same class only) and shown as ``Name(f=v, …)``.

    Mutable, hence unhashable, like a dataclass with ``eq=True``.
    """

    __slots__ = ()
    #: The fields compared and shown, in constructor order.
    _fields: ClassVar[tuple[str, ...]] = ()

    def _values(self) -> tuple[Any, ...]:
        return tuple([getattr(self, name) for name in self._fields])

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Record)
        return self._values() == other._values()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__qualname__}({shown})"


class Frozen(Record):
    """A :class:`Record` that cannot be changed after ``__init__`` and is hashed by its fields.

    ``functools.cached_property`` still works on subclasses without ``__slots__``: it writes to
    the instance ``__dict__`` directly.
    """

    __slots__ = ()

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(self._values())

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}")

    def __setstate__(self, state: Any) -> None:
        # copy and pickle restore fields with setattr, which __setattr__ refuses. ``state`` is
        # the instance __dict__, or (__dict__ or None, slot values) for a class with slots.
        instance, slots = state if isinstance(state, tuple) else (state, None)
        for values in (instance, slots):
            for name, value in (values or {}).items():
                object.__setattr__(self, name, value)
