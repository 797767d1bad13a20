"""`Fifo` (pure/ocppj/fifo.py) behaves like a tuple used as a queue, whatever the mix of operations.

Random sequences of append, pop, replace-first, where (drop one value) and map, applied both to a Fifo and to a
plain tuple; after every operation the two hold the same items in the same order, with the same length, first
item, truthiness, indexing and equality; every older version is unchanged (immutability).
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from chargecore.pure.ocppj.fifo import Fifo

OPERATION = st.one_of(
    st.tuples(st.just("append"), st.integers(0, 9)),
    st.tuples(st.just("pop"), st.just(0)),
    st.tuples(st.just("replace_first"), st.integers(10, 19)),
    st.tuples(st.just("where"), st.integers(0, 9)),
    st.tuples(st.just("map"), st.integers(1, 3)),
)


def _apply(queue: Fifo[int], model: tuple[int, ...], name: str, value: int) -> tuple[Fifo[int], tuple[int, ...]]:
    if name == "append":
        return queue.append(value), (*model, value)
    if name == "pop":
        return queue.pop(), model[1:]
    if name == "replace_first":
        return queue.replace_first(value), ((value, *model[1:]) if model else ())
    if name == "where":
        return queue.where(lambda item: item != value), tuple(item for item in model if item != value)
    return queue.map(lambda item: item + value), tuple(item + value for item in model)


@given(st.lists(st.integers(0, 9), max_size=8), st.lists(OPERATION, max_size=60))
def test_fifo_behaves_like_a_tuple_queue(start: list[int], operations: list[tuple[str, int]]) -> None:
    queue, model = Fifo.of(start), tuple(start)
    history: list[tuple[Fifo[int], tuple[int, ...]]] = []
    for name, value in operations:
        history.append((queue, model))
        queue, model = _apply(queue, model, name, value)
        assert tuple(queue) == model and len(queue) == len(model) and bool(queue) == bool(model)
        assert queue == model and queue == Fifo.of(model)
        assert queue.first == (model[0] if model else None)
        if model:
            assert queue[0] == model[0] and queue[-1] == model[-1]
    for old, old_model in history:
        assert tuple(old) == old_model
