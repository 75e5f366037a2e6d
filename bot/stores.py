"""Key-value stores for short-lived state: Redis when configured, process memory otherwise.

The access-token cache, dialogue state and locks all go through `KeyValueStore`, so the
embedded default and production differ only in which store `open_store` returns.
"""

import threading
import time
from typing import Protocol

import redis


class KeyValueStore(Protocol):
    def get(self, key: str) -> str | None: ...

    def set(self, key: str, value: str, ttl_seconds: float | None = None) -> None: ...

    def set_if_absent(self, key: str, value: str, ttl_seconds: float) -> bool:
        """Store the value only when the key is absent; return whether it was stored."""
        ...

    def delete(self, key: str) -> None: ...

    def delete_if_equal(self, key: str, value: str) -> bool:
        """Delete the key only while it still holds `value` (releasing a lock one owns)."""
        ...


class MemoryStore:
    """A thread-safe in-process store with per-key expiry, for one-process deployments."""

    def __init__(self) -> None:
        self._items: dict[str, tuple[str, float | None]] = {}
        self._lock = threading.Lock()

    def _live(self, key: str) -> str | None:
        item = self._items.get(key)
        if item is None:
            return None
        value, expires_at = item
        if expires_at is not None and expires_at <= time.monotonic():
            del self._items[key]
            return None
        return value

    def get(self, key: str) -> str | None:
        with self._lock:
            return self._live(key)

    def set(self, key: str, value: str, ttl_seconds: float | None = None) -> None:
        expires_at = time.monotonic() + ttl_seconds if ttl_seconds else None
        with self._lock:
            self._items[key] = (value, expires_at)

    def set_if_absent(self, key: str, value: str, ttl_seconds: float) -> bool:
        with self._lock:
            if self._live(key) is not None:
                return False
            self._items[key] = (value, time.monotonic() + ttl_seconds)
            return True

    def delete(self, key: str) -> None:
        with self._lock:
            self._items.pop(key, None)

    def delete_if_equal(self, key: str, value: str) -> bool:
        with self._lock:
            if self._live(key) != value:
                return False
            del self._items[key]
            return True


_DELETE_IF_EQUAL = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""


class RedisStore:
    """A store shared by every process through Redis."""

    def __init__(self, url: str, prefix: str = "zhongshu:") -> None:
        self._redis = redis.Redis.from_url(url, decode_responses=True, socket_timeout=5)
        self._prefix = prefix
        self._delete_if_equal = self._redis.register_script(_DELETE_IF_EQUAL)

    def get(self, key: str) -> str | None:
        return self._redis.get(self._prefix + key)

    def set(self, key: str, value: str, ttl_seconds: float | None = None) -> None:
        px = int(ttl_seconds * 1000) if ttl_seconds else None
        self._redis.set(self._prefix + key, value, px=px)

    def set_if_absent(self, key: str, value: str, ttl_seconds: float) -> bool:
        return bool(self._redis.set(self._prefix + key, value, px=int(ttl_seconds * 1000), nx=True))

    def delete(self, key: str) -> None:
        self._redis.delete(self._prefix + key)

    def delete_if_equal(self, key: str, value: str) -> bool:
        return bool(self._delete_if_equal(keys=[self._prefix + key], args=[value]))


def open_store(redis_url: str | None, prefix: str = "zhongshu:") -> KeyValueStore:
    """Return a Redis store when a URL is configured, else a process-local one."""
    if redis_url:
        return RedisStore(redis_url, prefix)
    return MemoryStore()
