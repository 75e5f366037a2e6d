"""Questions the bot asks before recording a note, as explicit dialogue state.

When a note names a customer that matches several customers, or a company the bot does not
know, the bot asks one question at a time and keeps the answers here (Redis when configured,
process memory otherwise). A question left unanswered expires; the expiry notice is an outbox
row scheduled for that moment and cancelled when the rep answers, so it survives restarts.
"""

import json
import logging
import time
from dataclasses import asdict, dataclass, field

from bot.stores import KeyValueStore

log = logging.getLogger(__name__)

# Keep the state a little past its expiry, so a late reply is recognised as expired.
GRACE_SECONDS = 3600


@dataclass
class Mention:
    written: str
    name: str
    customer_id: int | None
    candidates: list[int]
    is_new: bool


@dataclass
class PendingNote:
    """A note waiting for the rep to say which customers it is about.

    `choices[i]` is a customer id, "new" to create mention i's company, or None to leave it out.
    """

    inbound_id: int
    mentions: list[Mention]
    choices: dict[int, int | str | None] = field(default_factory=dict)
    asking: int = 0
    options: list[int] = field(default_factory=list)
    expires_at: float = 0.0
    expiry_notice_ids: list[int] = field(default_factory=list)

    @property
    def expired(self) -> bool:
        return time.time() >= self.expires_at

    def next_unresolved(self) -> int | None:
        for index, mention in enumerate(self.mentions):
            if index in self.choices:
                continue
            if mention.is_new or len(mention.candidates) > 1 or mention.customer_id is None:
                return index
            self.choices[index] = mention.customer_id
        return None


class DialogueStore:
    def __init__(self, store: KeyValueStore, ttl_seconds: int) -> None:
        self._store = store
        self.ttl_seconds = ttl_seconds

    @staticmethod
    def _key(userid: str) -> str:
        return f"dialogue:{userid}"

    def load(self, userid: str) -> PendingNote | None:
        raw = self._store.get(self._key(userid))
        if raw is None:
            return None
        data = json.loads(raw)
        data["mentions"] = [Mention(**m) for m in data["mentions"]]
        data["choices"] = {int(k): v for k, v in data["choices"].items()}
        return PendingNote(**data)

    def save(self, userid: str, pending: PendingNote) -> None:
        if not pending.expires_at:
            pending.expires_at = time.time() + self.ttl_seconds
        self._store.set(self._key(userid), json.dumps(asdict(pending), ensure_ascii=False), self.ttl_seconds + GRACE_SECONDS)

    def clear(self, userid: str) -> None:
        self._store.delete(self._key(userid))
