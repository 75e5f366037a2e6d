"""App group chats (`appchat/*`) and group robots (`webhook/send`) with their rate limits.

Rules from WeCom's "应用推送消息" and "群机器人配置说明" pages: an app group chat has 2 to 2,000
members and takes no template cards. A chat id is at most 32 characters of `[0-9A-Za-z]`. A
robot takes text (2,048 bytes), markdown (4,096 bytes), JPG or PNG images sent as base64 with
the MD5 of the raw bytes (at most 2 MB), and files by media id, at most 20 messages a minute.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.emulator.errors import ApiError
from bot.emulator.media import (
    MAX_MEDIA_BYTES,
    MediaStore,
    image_content_type,
    is_jpg_or_png,
)

APPCHAT_MINUTE_LIMIT = 200
ROBOT_MINUTE_LIMIT = 20
APPCHAT_MIN_MEMBERS = 2
APPCHAT_MAX_MEMBERS = 2000
APPCHAT_NAME_MAX_CHARS = 50
CHAT_ID_PATTERN = re.compile(r"[0-9A-Za-z]{1,32}")
ROBOT_TEXT_MAX_BYTES = 2048
ROBOT_MARKDOWN_MAX_BYTES = 4096

# Message types `appchat/send` accepts, from WeCom's "应用推送消息" page: no template_card.
APPCHAT_MSGTYPES = frozenset({"text", "image", "voice", "video", "file", "textcard", "news", "mpnews", "markdown"})
# NOTE: real robots also take news, voice, markdown_v2 and template_card messages; the
# emulator accepts only these and returns 40008 for the rest.
ROBOT_MSGTYPES = frozenset({"text", "markdown", "image", "file"})


@dataclass
class AppChat:
    chatid: str
    name: str
    owner: str
    userlist: list[str]
    created_at: float
    sent_times: deque[float] = field(default_factory=deque)

    def summary(self) -> dict[str, Any]:
        return {
            "chatid": self.chatid,
            "name": self.name,
            "owner": self.owner,
            "userlist": list(self.userlist),
            "created_at": self.created_at,
        }


def take_slot(times: deque[float], now: float, limit: int) -> bool:
    """Record a send in a sliding one-minute window and return True, or return False when full."""
    while times and times[0] <= now - 60:
        times.popleft()
    if len(times) >= limit:
        return False
    times.append(now)
    return True


def text_content(body: dict[str, Any], max_bytes: int) -> str:
    """Return a text or markdown body's content, or raise ApiError (44004 empty, 45002 too long)."""
    content = body.get("content")
    if not isinstance(content, str) or not content:
        raise ApiError(44004)
    if len(content.encode("utf-8")) > max_bytes:
        raise ApiError(45002)
    return content


class GroupChats:
    """App group chats by chat id and robot send windows by key. Callers hold the emulator's lock."""

    def __init__(self, is_known_user: Callable[[str], bool], robot_keys: frozenset[str] | None) -> None:
        self._is_known_user = is_known_user
        self._robot_keys = robot_keys
        self.appchats: dict[str, AppChat] = {}
        self.robot_windows: dict[str, deque[float]] = {}

    def reset_windows(self) -> None:
        for chat in self.appchats.values():
            chat.sent_times.clear()
        self.robot_windows.clear()

    # appchat/create and appchat/send

    def create(self, payload: dict[str, Any], now: float) -> AppChat:
        userlist = payload.get("userlist")
        if not isinstance(userlist, list) or not userlist:
            raise ApiError(86204)
        members = [str(user) for user in userlist]
        if not APPCHAT_MIN_MEMBERS <= len(set(members)) <= APPCHAT_MAX_MEMBERS:
            raise ApiError(86006)
        if not all(self._is_known_user(user) for user in members):
            raise ApiError(86007)

        owner = payload.get("owner") or secrets.choice(members)
        if owner not in members:
            raise ApiError(86207)

        chatid = payload.get("chatid") or secrets.token_hex(16)
        if not isinstance(chatid, str) or not CHAT_ID_PATTERN.fullmatch(chatid):
            raise ApiError(86001)
        if chatid in self.appchats:
            raise ApiError(86215)

        # WeCom truncates a name longer than 50 characters instead of rejecting it.
        name = str(payload.get("name") or "")[:APPCHAT_NAME_MAX_CHARS]
        chat = AppChat(chatid, name, owner, members, now)
        self.appchats[chatid] = chat
        return chat

    def check_appchat_send(self, payload: dict[str, Any]) -> AppChat:
        """Return the chat a send names, or raise ApiError for a missing or unknown chat id."""
        chatid = payload.get("chatid")
        if not chatid:
            raise ApiError(86201)
        chat = self.appchats.get(str(chatid))
        if chat is None:
            raise ApiError(86003)
        return chat

    # webhook/send

    def check_robot_key(self, key: str | None) -> str:
        if not key or (self._robot_keys is not None and key not in self._robot_keys):
            raise ApiError(93000)
        return key

    def robot_slot(self, key: str, now: float) -> bool:
        return take_slot(self.robot_windows.setdefault(key, deque()), now, ROBOT_MINUTE_LIMIT)


def decode_robot_image(body: dict[str, Any], media_store: MediaStore, now: float) -> tuple[dict[str, Any], Any]:
    """Check a robot image (base64 and the MD5 of the raw bytes) and store it as media for the page.

    Returns (content, media) or raises ApiError: 40058 for bad base64 or a wrong MD5, 40009 for
    an image over 2 MB, 40004 for anything but JPG or PNG.
    """
    encoded, md5 = body.get("base64"), body.get("md5")
    if not isinstance(encoded, str) or not isinstance(md5, str):
        raise ApiError(40058, "image.base64 and image.md5 are required")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ApiError(40058, "image.base64 is not valid base64") from error
    if not raw or len(raw) > MAX_MEDIA_BYTES["image"]:
        raise ApiError(40009)
    # NOTE: WeCom documents no errcode for an MD5 that does not match the image; the emulator
    # returns 40058 ("不合法的参数").
    if hashlib.md5(raw).hexdigest() != md5.lower():
        raise ApiError(40058, "image.md5 does not match the image bytes")
    if not is_jpg_or_png(raw):
        raise ApiError(40004)
    media = media_store.add("image", "robot-image", image_content_type(raw), raw, now)
    return {"md5": md5.lower(), "size": len(raw)}, media
