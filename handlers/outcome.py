"""Channel-neutral replies and notifications that use cases return.

`bot/` renders them for WeCom, the emulator or the console; handlers never see a channel.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Button:
    """A card button; `key` comes back as the click event's EventKey. Style 1 is primary, 2 plain."""

    key: str
    label: str
    style: int = 1


@dataclass(frozen=True)
class Card:
    """A card with buttons; `task_id` identifies it for later updates (unique per app)."""

    title: str
    description: str
    fields: tuple[tuple[str, str], ...] = ()
    buttons: tuple[Button, ...] = ()
    task_id: str | None = None


@dataclass(frozen=True)
class Image:
    path: str
    caption: str | None = None


@dataclass(frozen=True)
class File:
    path: str
    name: str


Reply = Text | Card | Image | File


@dataclass(frozen=True)
class CardUpdate:
    """Grey out a sent card's buttons for every recipient, showing `label` (已同意, 已驳回 …).

    `response_code` is the click's code, which WeCom accepts once within 72 hours. Without a
    usable code the sender sends `recipients` the decision as a new text message instead.
    """

    task_id: str
    label: str
    response_code: str | None
    recipients: tuple[str, ...]


@dataclass(frozen=True)
class Notification:
    """A message to someone other than the sender, identified by WeCom UserID."""

    recipient: str
    reply: Reply
    dedup_key: str | None = None


@dataclass
class Outcome:
    """The messages a use case sends: replies to the sender and notifications to others."""

    replies: list[Reply] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)
    card_updates: list[CardUpdate] = field(default_factory=list)

    @classmethod
    def text(cls, text: str) -> "Outcome":
        return cls(replies=[Text(text)])
