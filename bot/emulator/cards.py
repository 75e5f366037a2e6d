"""Template cards: validation, the cards an app has sent, and their single-use response codes.

Rules from WeCom's "发送应用消息" (template_card) and "更新模版卡片消息" pages: a `task_id` is
1 to 128 bytes of `[0-9A-Za-z_-@]` and unique within the app. A button_interaction card has a
main title and 1 to 6 buttons, each with a text and a key unique within the card. A response
code comes back from `message/send` and with every click. It may update the card once and
expires 72 hours after it was issued.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from bot.emulator.errors import ApiError

CARD_TYPES = frozenset(
    {"text_notice", "news_notice", "button_interaction", "vote_interaction", "multiple_interaction"}
)
# Card types that call back when a member acts on them, and so need a task_id.
INTERACTIVE_CARD_TYPES = frozenset({"button_interaction", "vote_interaction", "multiple_interaction"})
TASK_ID_PATTERN = re.compile(r"[0-9A-Za-z_\-@]{1,128}")
MAX_BUTTONS = 6
BUTTON_KEY_MAX_BYTES = 1024
RESPONSE_CODE_TTL_SECONDS = 72 * 3600

INVALID_TASK_ID = 42014
# NOTE: WeCom documents no errcode of its own for a missing or malformed card field, so the
# emulator returns 40058 ("不合法的参数") and names the field in errmsg.
INVALID_PARAMETER = 40058
INVALID_BUTTON_KEY = 42018
MISSING_BUTTON_KEY = 42019
MISSING_BUTTON_NAME = 42020
# NOTE: WeCom's global errcode list has 42022 for a code that was already used, but no errcode
# for an unknown or expired response code, so the emulator returns 40058 for those.
USED_RESPONSE_CODE = 42022


def validate_card(card: dict[str, Any], sent_task_ids: set[str]) -> None:
    """Raise ApiError when `card` breaks one of WeCom's template_card rules."""
    card_type = card.get("card_type")
    if card_type not in CARD_TYPES:
        raise ApiError(INVALID_PARAMETER, f"invalid card_type: {card_type!r}")

    task_id = card.get("task_id")
    needs_task_id = task_id is not None or card_type in INTERACTIVE_CARD_TYPES
    valid_task_id = isinstance(task_id, str) and TASK_ID_PATTERN.fullmatch(task_id) and task_id not in sent_task_ids
    if needs_task_id and not valid_task_id:
        raise ApiError(INVALID_TASK_ID, "taskid has existed or empty or exceed max len")

    if card_type == "button_interaction":
        _validate_main_title(card)
        _validate_buttons(card.get("button_list"))


def _validate_main_title(card: dict[str, Any]) -> None:
    main_title = card.get("main_title")
    if not isinstance(main_title, dict) or not isinstance(main_title.get("title"), str) or not main_title["title"]:
        raise ApiError(INVALID_PARAMETER, "main_title.title missing")


def _validate_buttons(buttons: Any) -> None:
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= MAX_BUTTONS:
        raise ApiError(INVALID_PARAMETER, f"button_list must have 1 to {MAX_BUTTONS} buttons")
    keys: set[str] = set()
    for button in buttons:
        if not isinstance(button, dict) or not isinstance(button.get("text"), str) or not button["text"]:
            raise ApiError(MISSING_BUTTON_NAME, "button name missing")
        key = button.get("key")
        if not isinstance(key, str) or not key:
            raise ApiError(MISSING_BUTTON_KEY, "button key missing")
        if len(key.encode("utf-8")) > BUTTON_KEY_MAX_BYTES or key in keys:
            raise ApiError(INVALID_BUTTON_KEY, f"invalid button key: {key!r} is too long or repeated")
        keys.add(key)


def button_text(card: dict[str, Any], key: str) -> str | None:
    """Return the text of the button with `key`, or None when the card has no such button."""
    for button in card.get("button_list") or []:
        if isinstance(button, dict) and button.get("key") == key:
            return str(button.get("text", ""))
    return None


@dataclass
class SentCard:
    """A card sent with a task_id, and what happened to it since."""

    task_id: str
    card_type: str
    content: dict[str, Any]
    recipients: list[str]
    sent_at: float
    updated: bool = False
    replace_name: str | None = None
    updated_at: float | None = None
    update_userids: list[str] = field(default_factory=list)
    clicks: list[dict[str, Any]] = field(default_factory=list)

    def state(self) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "card_type": self.card_type,
            "recipients": list(self.recipients),
            "updated": self.updated,
            "replace_name": self.replace_name,
            "updated_at": self.updated_at,
            "update_userids": list(self.update_userids),
            "clicks": [dict(click) for click in self.clicks],
        }


@dataclass
class ResponseCode:
    """A code that may update its card once, until 72 hours after `issued_at`."""

    code: str
    task_id: str
    user: str | None
    issued_at: float
    used_at: float | None = None


class CardRegistry:
    """The app's sent cards by task_id and the response codes issued for them.

    Callers hold the emulator's lock.
    """

    def __init__(self) -> None:
        self.cards: dict[str, SentCard] = {}
        self._codes: dict[str, ResponseCode] = {}

    def task_ids(self) -> set[str]:
        return set(self.cards)

    def add(self, card: dict[str, Any], recipients: list[str], now: float) -> SentCard:
        sent = SentCard(card["task_id"], card["card_type"], card, list(recipients), now)
        self.cards[sent.task_id] = sent
        return sent

    def issue_code(self, task_id: str, user: str | None, now: float) -> str:
        code = secrets.token_urlsafe(24)
        self._codes[code] = ResponseCode(code, task_id, user, now)
        return code

    def use_code(self, code: Any, now: float) -> SentCard:
        """Spend `code` and return its card; raise ApiError when it is unknown, used or expired."""
        issued = self._codes.get(code) if isinstance(code, str) else None
        if issued is None:
            raise ApiError(INVALID_PARAMETER, "invalid response_code")
        if issued.used_at is not None:
            raise ApiError(USED_RESPONSE_CODE, "response_code has been used")
        if now >= issued.issued_at + RESPONSE_CODE_TTL_SECONDS:
            raise ApiError(INVALID_PARAMETER, "response_code expired")
        issued.used_at = now
        return self.cards[issued.task_id]
