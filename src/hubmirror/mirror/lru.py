"""A small bounded mapping that forgets the least recently used key first.

The warm path answers HEADs from memory; these caches sit in front of the index
so a hot file costs a few dict operations instead of several SQL queries.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LRU(Generic[K, V]):
    def __init__(self, capacity: int, weigh: Callable[[V], int] | None = None) -> None:
        self.capacity = capacity
        self.weigh = weigh or (lambda _v: 1)
        self.weight = 0
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self.pop(key)
        self._items[key] = value
        self.weight += self.weigh(value)
        while self.weight > self.capacity and self._items:
            _, old = self._items.popitem(last=False)
            self.weight -= self.weigh(old)

    def pop(self, key: K) -> V | None:
        value = self._items.pop(key, None)
        if value is not None:
            self.weight -= self.weigh(value)
        return value

    def __len__(self) -> int:
        return len(self._items)
