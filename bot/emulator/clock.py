"""A clock that moves only when a test advances it, to inject into the emulator in place of `time.time`."""

from __future__ import annotations

import threading

# 2023-11-14 22:13:20 UTC: a fixed, realistic Unix time to start from.
DEFAULT_START = 1_700_000_000.0


class ManualClock:
    """Returns Unix seconds that change only through `advance` or `set`."""

    def __init__(self, start: float = DEFAULT_START) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds

    def set(self, now: float) -> None:
        with self._lock:
            self._now = now
