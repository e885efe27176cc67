"""A bounded map from browser session to one value, for what the page keeps per visitor
between requests (the last finished render, the table before a director action)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any


class PerSession:
    """A bounded map from browser session to one value (the oldest sessions go first)."""

    def __init__(self, max_sessions: int = 512):
        self._items: "OrderedDict[str, Any]" = OrderedDict()
        self._lock = threading.Lock()
        self.max_sessions = max_sessions

    def put(self, session: str, value: Any) -> None:
        with self._lock:
            self._items[session] = value
            self._items.move_to_end(session)
            while len(self._items) > self.max_sessions:
                self._items.popitem(last=False)

    def get(self, session: str) -> Any:
        with self._lock:
            return self._items.get(session)

    def pop(self, session: str) -> Any:
        with self._lock:
            return self._items.pop(session, None)
