"""The sandbox's notion of "now", which tests can move forward instead of sleeping."""

import threading
import time


class Clock:
    """Wall-clock time plus an offset that only grows (advance)."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return time.time() + self._offset

    def timestamp(self) -> int:
        return int(self.now())

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds
