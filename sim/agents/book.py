"""Struct-of-arrays storage that grows by doubling, shared by every actor book."""

from __future__ import annotations

from typing import Any, Callable

import mesa
import numpy as np


class Book:
    """Named numpy columns of equal length ``capacity``; rows ``[0, n)`` are in use.

    Subclasses declare columns with :meth:`column`; :meth:`reserve` grows every
    column at once (amortised O(1) per appended row), so agents can enter
    without a Python loop over existing ones.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = max(int(capacity), 1)
        self.n = 0
        self._columns: dict[str, object] = {}

    def column(self, name: str, dtype: object, fill: object = 0, width: int | None = None) -> np.ndarray:
        """Create column ``name`` (optionally 2-D with ``width`` columns) filled with ``fill``."""
        shape = (self.capacity,) if width is None else (self.capacity, width)
        arr = np.full(shape, fill, dtype=dtype)
        self._columns[name] = fill
        setattr(self, name, arr)
        return arr

    def reserve(self, extra: int) -> None:
        """Make room for ``extra`` more rows."""
        need = self.n + int(extra)
        if need <= self.capacity:
            return
        new_cap = max(need, 2 * self.capacity)
        for name, fill in self._columns.items():
            old = getattr(self, name)
            arr = np.full((new_cap,) + old.shape[1:], fill, dtype=old.dtype)
            arr[: self.capacity] = old
            setattr(self, name, arr)
        self.capacity = new_cap

    def append(self, k: int) -> np.ndarray:
        """Claim ``k`` new rows and return their indices."""
        self.reserve(k)
        idx = np.arange(self.n, self.n + k)
        self.n += k
        return idx


class BookAgent(mesa.Agent):
    """A thin Mesa agent viewing row ``index`` of the model's book named ``book``.

    State stays in the vectorised book; the agent exists so that Mesa tools
    (``model.agents_by_type``, ``AgentSet.select``, visualisation) can reach it.
    """

    book: str = ""

    def __init__(self, model: mesa.Model, index: int) -> None:
        super().__init__(model)
        self.index = int(index)

    @property
    def _book(self) -> Book:
        return getattr(self.model, self.book)


def column_view(name: str, cast: Callable[[Any], Any] = float, doc: str = "") -> property:
    """A read-only agent property returning ``cast(book.<name>[index])``."""
    return property(lambda self: cast(getattr(self._book, name)[self.index]), doc=doc or f"The book's ``{name}``.")
