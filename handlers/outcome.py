"""Channel-neutral replies and notifications that use cases return.

`bot/` renders them for WeCom, the emulator or the console; handlers never see a channel.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Button:
    key: str
    label: str


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
class Notification:
    """A message to someone other than the sender, identified by WeCom UserID."""

    recipient: str
    reply: Reply
    dedup_key: str | None = None


@dataclass
class Outcome:
    """What a use case sends: replies to the sender and notifications to others."""

    replies: list[Reply] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)

    @classmethod
    def text(cls, text: str) -> "Outcome":
        return cls(replies=[Text(text)])
