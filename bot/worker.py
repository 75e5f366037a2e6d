"""Background threads of a server process: inbox workers and the outbox sender."""

import logging
import os
import socket
import threading
from datetime import timedelta

from bot.dispatch import process_message
from bot.inbox import claim_messages, release_own_claims, release_stale_claims
from bot.sender import deliver_due
from bot.runtime import Runtime
from bot.wecom.client import WeComClient

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5


class BackgroundWorkers:
    """Starts and stops the inbox workers and the outbox sender of one process."""

    def __init__(self, runtime: Runtime, inbox_workers: int | None = None) -> None:
        self.runtime = runtime
        self.inbox_workers = runtime.settings.inbox_workers if inbox_workers is None else inbox_workers
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._name = f"{socket.gethostname()}:{os.getpid()}"

    def start(self) -> None:
        if self.runtime.db.is_sqlite:
            release_stale_claims(self.runtime.db, lease=timedelta(0))
        else:
            release_stale_claims(self.runtime.db)
        for index in range(self.inbox_workers):
            self._spawn(f"inbox-{index}", self._inbox_loop, f"{self._name}:{index}")
        self._spawn("outbox", self._outbox_loop)
        log.info("background workers started: inbox=%d", self.inbox_workers)

    def _spawn(self, name: str, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        self.runtime.inbox_signal.set()
        self.runtime.outbox_signal.set()
        for thread in self._threads:
            thread.join(timeout=10)
        for index in range(self.inbox_workers):
            release_own_claims(self.runtime.db, f"{self._name}:{index}")
        log.info("background workers stopped")

    def _inbox_loop(self, worker: str) -> None:
        signal = self.runtime.inbox_signal
        while not self._stop.is_set():
            try:
                claimed = claim_messages(self.runtime.db, worker)
                for message_id in claimed:
                    process_message(self.runtime, message_id)
                    signal.set()  # the sender's next message may now be claimable
            except Exception:
                log.exception("inbox worker loop failed: worker=%s", worker)
                claimed = []
            if not claimed:
                signal.wait(POLL_SECONDS)
                signal.clear()

    def _outbox_loop(self) -> None:
        client = WeComClient.from_settings(self.runtime.settings, self.runtime.store)
        signal = self.runtime.outbox_signal
        while not self._stop.is_set():
            try:
                attempted = deliver_due(self.runtime.db, client)
            except Exception:
                log.exception("outbox sender loop failed")
                attempted = 0
            if not attempted:
                signal.wait(POLL_SECONDS)
                signal.clear()
