"""An immutable first-in-first-out queue whose append and pop-front cost O(1) (amortised), whatever its length.

A tuple copied on every append makes a queue of n messages cost O(n) per message. `Fifo` is a banker's queue
(Okasaki): two immutable singly linked lists, `front` in order and `back` in reverse; appending conses onto
`back`, popping takes `front`'s first cell, and `back` is reversed into `front` once `front` runs out (each
item is moved once, so the cost is amortised O(1)). `front` is empty only when the whole queue is, so the first
item is always one field away. Versions share their cells; the station uses each version once (state goes
forward), which is what the amortised bound needs.

It is a `Sequence`: iteration, `len`, indexing and `==` with another Fifo or a tuple of the same items work as
they did when the lane was a tuple.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar, overload

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class _Cell(Generic[T]):
    item: T
    rest: _Cell[T] | None


def _reversed(cell: _Cell[T] | None) -> _Cell[T] | None:
    out: _Cell[T] | None = None
    while cell is not None:
        out, cell = _Cell(cell.item, out), cell.rest
    return out


def _items(cell: _Cell[T] | None) -> Iterator[T]:
    while cell is not None:
        yield cell.item
        cell = cell.rest


@dataclass(frozen=True, slots=True, eq=False)
class Fifo(Sequence[T]):
    front: _Cell[T] | None = None
    back: _Cell[T] | None = None
    size: int = 0

    @staticmethod
    def of(items: Iterable[T]) -> Fifo[T]:
        front: _Cell[T] | None = None
        size = 0
        for item in items:
            front, size = _Cell(item, front), size + 1
        return Fifo(_reversed(front), None, size)

    def append(self, item: T) -> Fifo[T]:
        if self.front is None:
            return Fifo(_Cell(item, None), None, 1)
        return Fifo(self.front, _Cell(item, self.back), self.size + 1)

    @property
    def first(self) -> T | None:
        return None if self.front is None else self.front.item

    def pop(self) -> Fifo[T]:
        """Without the first item (the same empty queue when empty)."""
        if self.front is None:
            return self
        if self.front.rest is None:
            return Fifo(_reversed(self.back), None, self.size - 1)
        return Fifo(self.front.rest, self.back, self.size - 1)

    def replace_first(self, item: T) -> Fifo[T]:
        if self.front is None:
            return self
        return Fifo(_Cell(item, self.front.rest), self.back, self.size)

    def where(self, keep: Callable[[T], bool]) -> Fifo[T]:
        """O(n): only for the rare change away from the head."""
        return Fifo.of(item for item in self if keep(item))

    def map(self, change: Callable[[T], T]) -> Fifo[T]:
        """O(n): only for the rare change away from the head."""
        return Fifo.of(change(item) for item in self)

    def __len__(self) -> int:
        return self.size

    def __bool__(self) -> bool:
        return self.front is not None

    def __iter__(self) -> Iterator[T]:
        yield from _items(self.front)
        yield from reversed(list(_items(self.back)))

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[T, ...]: ...

    def __getitem__(self, index: int | slice) -> T | tuple[T, ...]:
        if index == 0 and self.front is not None:
            return self.front.item
        return tuple(self)[index]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Fifo | tuple):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    def __repr__(self) -> str:
        return f"Fifo({tuple(self)!r})"
