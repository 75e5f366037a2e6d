"""The app's access token, cached in a KeyValueStore and refreshed by one caller at a time.

One token exists per corp id and app (agent id), and with a RedisStore every process shares
it. A refresh takes a short lock through `set_if_absent`. Callers that lose the race poll the
store until the winner has stored the new token.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable

from bot.stores import KeyValueStore

logger = logging.getLogger(__name__)

# Fetches a new token from WeCom: returns (access_token, expires_in seconds).
TokenFetcher = Callable[[], tuple[str, int]]


class TokenRefreshTimeout(RuntimeError):
    """Raised when another caller held the refresh lock for longer than the wait allows."""


class AccessTokenCache:
    """An access token cached until shortly before WeCom's `expires_in` runs out."""

    def __init__(
        self,
        store: KeyValueStore,
        corp_id: str,
        agent_id: int,
        *,
        expiry_margin_seconds: int = 300,
        lock_ttl_seconds: float = 15.0,
        poll_interval_seconds: float = 0.05,
    ) -> None:
        self._store = store
        self._key = f"wecom:access_token:{corp_id}:{agent_id}"
        self._lock_key = f"{self._key}:refresh_lock"
        self._expiry_margin_seconds = expiry_margin_seconds
        self._lock_ttl_seconds = lock_ttl_seconds
        self._poll_interval_seconds = poll_interval_seconds
        self._label = f"corp {corp_id} agent {agent_id}"

    def get(self) -> str | None:
        return self._store.get(self._key)

    def get_or_fetch(self, fetch: TokenFetcher) -> str:
        """Return the cached token, fetching one under the lock when none is cached."""
        token = self.get()
        if token:
            return token
        return self.refresh(fetch, stale=None)

    def refresh(self, fetch: TokenFetcher, stale: str | None) -> str:
        """Return a token other than `stale`, fetching it unless another caller already did.

        `stale` is the token WeCom just rejected, or None when the cache was empty. Only the
        caller that takes the lock fetches. The others wait up to twice the lock TTL, so a
        lock left by a crashed caller expires meanwhile and they can take it themselves.
        Raises TokenRefreshTimeout when that wait runs out, and whatever `fetch` raises.
        """
        owner = secrets.token_hex(8)
        deadline = time.monotonic() + 2 * self._lock_ttl_seconds
        while True:
            current = self.get()
            if current and current != stale:
                return current

            if self._store.set_if_absent(self._lock_key, owner, self._lock_ttl_seconds):
                try:
                    return self._fetch_and_store(fetch, stale)
                finally:
                    self._store.delete_if_equal(self._lock_key, owner)

            if time.monotonic() > deadline:
                raise TokenRefreshTimeout(f"timed out waiting for another caller to refresh the access token of {self._label}")
            time.sleep(self._poll_interval_seconds)

    def _fetch_and_store(self, fetch: TokenFetcher, stale: str | None) -> str:
        # Another caller may have stored a new token between our read and taking the lock.
        current = self.get()
        if current and current != stale:
            return current

        token, expires_in = fetch()
        if expires_in > 2 * self._expiry_margin_seconds:
            ttl = expires_in - self._expiry_margin_seconds
        else:
            ttl = expires_in / 2
        self._store.set(self._key, token, ttl)
        logger.info("access token refreshed for %s, cached for %d s", self._label, ttl)
        return token
