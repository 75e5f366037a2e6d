"""Routing card button clicks to the use case that sent the card.

A card's `task_id` starts with a prefix naming its use case (`apv-` for approvals), so a click
event finds its handler without the bot knowing any business rule.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass

from handlers.context import Context
from handlers.outcome import Outcome

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CardClick:
    task_id: str
    key: str  # the clicked button's key
    response_code: str | None  # lets the sender update the card once; WeCom keeps it 72 hours


ClickHandler = Callable[[Context, CardClick], Outcome]

_handlers: dict[str, ClickHandler] = {}

CARD_GONE = "这张卡片已失效或不属于你,没有任何改动。"


def on_click(prefix: str) -> Callable[[ClickHandler], ClickHandler]:
    """Register a handler for clicks on cards whose task id starts with `prefix`."""

    def register(handler: ClickHandler) -> ClickHandler:
        _handlers[prefix] = handler
        return handler

    return register


def handle_click(ctx: Context, click: CardClick) -> Outcome:
    for prefix, handler in _handlers.items():
        if click.task_id.startswith(prefix):
            return handler(ctx, click)
    log.warning("card click without handler: task_id=%s", click.task_id)
    return Outcome.text(CARD_GONE)
