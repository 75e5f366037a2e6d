"""The WeCom server's state and rules, kept apart from HTTP so that each rule reads on its own.

Every API method takes the already-parsed request values and returns the JSON body WeCom would
return, so `bot.emulator.app` only maps routes to these methods. Time comes from the injected
clock, so tests move token, media and response-code expiry and rate windows forward without
sleeping. Cards, media and group chats keep their rules in modules of their own.
"""

from __future__ import annotations

import secrets
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.emulator.cards import CardRegistry, button_text, validate_card
from bot.emulator.chats import (
    APPCHAT_MINUTE_LIMIT,
    APPCHAT_MSGTYPES,
    ROBOT_MARKDOWN_MAX_BYTES,
    ROBOT_MSGTYPES,
    ROBOT_TEXT_MAX_BYTES,
    GroupChats,
    decode_robot_image,
    take_slot,
    text_content,
)
from bot.emulator.errors import ERRMSG, ApiError, error_body
from bot.emulator.media import Media, MediaStore, UploadedFile
from bot.settings import DEV_AES_KEY, DEV_CORP_ID, DEV_SECRET, DEV_TOKEN, Settings

__all__ = ["ERRMSG", "ApiOutcome", "EmulatorConfig", "EmulatorState", "Fault", "error_body"]

TEXT_MAX_BYTES = 2048
ACCESS_TOKEN_TTL_SECONDS = 7200
MINUTE_LIMIT_PER_MEMBER = 30
HOUR_LIMIT_PER_MEMBER = 1000

# Message types `message/send` accepts, from WeCom's "发送应用消息" page.
SENDABLE_MSGTYPES = frozenset(
    {
        "text",
        "image",
        "voice",
        "video",
        "file",
        "textcard",
        "news",
        "mpnews",
        "markdown",
        "miniprogram_notice",
        "template_card",
    }
)


@dataclass(frozen=True)
class EmulatorConfig:
    """One WeCom corp with one self-built app, plus the callback the emulated device posts to.

    `known_users` is the member directory: None accepts any userid, a set makes every other
    userid invalid (reported in `invaliduser`, never delivered). `robot_keys` lists the group
    robots' webhook keys: None accepts any key, a set makes every other key fail with 93000.
    """

    corp_id: str = DEV_CORP_ID
    secret: str = DEV_SECRET
    agent_id: int = Settings.model_fields["wecom_agent_id"].default
    known_users: frozenset[str] | None = None
    callback_url: str | None = None
    callback_token: str = DEV_TOKEN
    callback_aes_key: str = DEV_AES_KEY
    access_token_ttl_seconds: int = ACCESS_TOKEN_TTL_SECONDS
    minute_limit_per_member: int = MINUTE_LIMIT_PER_MEMBER
    hour_limit_per_member: int = HOUR_LIMIT_PER_MEMBER
    robot_keys: frozenset[str] | None = None


@dataclass
class Fault:
    """A failure the next request to one API path meets: a delay, an errcode, or both."""

    errcode: int | None = None
    errmsg: str | None = None
    delay_seconds: float = 0.0


@dataclass
class ApiOutcome:
    """The JSON body an API call returns, and how long the route waits before returning it."""

    body: dict[str, Any]
    delay_seconds: float = 0.0


class ClickRejected(Exception):
    """A card click the emulated member cannot make, with the HTTP status the device API returns."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


@dataclass
class _MemberWindow:
    """Delivery times for one member, oldest first, trimmed to the last hour."""

    times: deque[float] = field(default_factory=deque)


class EmulatorState:
    """Tokens, media, cards, group chats, delivered and dropped messages, counters and faults.

    `reset` clears messages, cards and response codes, counters, faults and rate windows.
    Tokens, uploaded media and created group chats stay, as they would in WeCom.
    """

    def __init__(self, config: EmulatorConfig, clock: Callable[[], float]) -> None:
        self.config = config
        self._clock = clock
        self._lock = threading.Lock()
        self._known_users = (
            None if config.known_users is None else frozenset(u.lower() for u in config.known_users)
        )
        self._tokens: dict[str, float] = {}
        self._current_token: str | None = None
        self._media = MediaStore()
        self._chats = GroupChats(self._is_known, config.robot_keys)
        self.reset(keep_tokens=False)

    def reset(self, keep_tokens: bool = True) -> None:
        """Clear messages, cards, counters, faults and rate windows; issued tokens stay valid by default."""
        with self._lock:
            self._messages: list[dict[str, Any]] = []
            self._dropped: list[dict[str, Any]] = []
            self._group_messages: list[dict[str, Any]] = []
            self._inbound: list[dict[str, Any]] = []
            self._next_id = 1
            self._windows: dict[str, _MemberWindow] = {}
            self._chats.reset_windows()
            self._cards = CardRegistry()
            self._faults: dict[str, deque[Fault]] = {}
            self._counters = {"gettoken_calls": 0, "message_send_calls": 0}
            if not keep_tokens:
                self._tokens.clear()
                self._current_token = None

    def _take_id(self) -> int:
        record_id = self._next_id
        self._next_id += 1
        return record_id

    # Faults

    def add_fault(self, path: str, fault: Fault, count: int) -> None:
        with self._lock:
            queue = self._faults.setdefault(path, deque())
            queue.extend(Fault(fault.errcode, fault.errmsg, fault.delay_seconds) for _ in range(count))

    def _start_call(self, path: str) -> tuple[dict[str, Any] | None, float]:
        """Count a call to `path` and take its next fault: return (error body or None, delay)."""
        counter = path.replace("/", "_") + "_calls"
        self._counters[counter] = self._counters.get(counter, 0) + 1
        queue = self._faults.get(path)
        fault = queue.popleft() if queue else None
        if fault is None:
            return None, 0.0
        failure = None if fault.errcode is None else error_body(fault.errcode, fault.errmsg)
        return failure, fault.delay_seconds

    def _call(
        self,
        path: str,
        access_token: str | None,
        handler: Callable[[], dict[str, Any]],
        *,
        needs_token: bool = True,
    ) -> ApiOutcome:
        """Run one API call under the lock: count it, apply a fault, check the token, then `handler`.

        Robot paths pass `needs_token=False` because a webhook key replaces the token. An
        ApiError from the handler becomes WeCom's error body.
        """
        with self._lock:
            failure, delay = self._start_call(path)
            if failure:
                return ApiOutcome(failure, delay)
            if needs_token:
                errcode = self._check_token(access_token)
                if errcode:
                    return ApiOutcome(error_body(errcode), delay)
            try:
                return ApiOutcome(handler(), delay)
            except ApiError as error:
                return ApiOutcome(error.body(), delay)

    # gettoken

    def get_token(self, corpid: str | None, corpsecret: str | None) -> ApiOutcome:
        """Handle `gettoken`: return the current token while it is valid, a new one after it expires."""
        with self._lock:
            failure, delay = self._start_call("gettoken")
            if failure:
                return ApiOutcome(failure, delay)

            if not corpid:
                return ApiOutcome(error_body(41002), delay)
            if corpid != self.config.corp_id:
                return ApiOutcome(error_body(40013), delay)
            if not corpsecret:
                return ApiOutcome(error_body(41004), delay)
            if corpsecret != self.config.secret:
                return ApiOutcome(error_body(40001), delay)

            # WeCom returns the same token on every call until it expires.
            now = self._clock()
            token = self._current_token
            if token is None or self._tokens[token] <= now:
                token = secrets.token_urlsafe(48)
                self._tokens[token] = now + self.config.access_token_ttl_seconds
                self._current_token = token
            expires_in = round(self._tokens[token] - now)
            body = {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": expires_in}
            return ApiOutcome(body, delay)

    def _check_token(self, access_token: str | None) -> int:
        if not access_token:
            return 41001
        expires_at = self._tokens.get(access_token)
        if expires_at is None:
            return 40014
        if expires_at <= self._clock():
            return 42001
        return 0

    def _check_agent(self, payload: dict[str, Any]) -> None:
        agent_id = payload.get("agentid")
        if agent_id in (None, ""):
            raise ApiError(41011)
        if str(agent_id) != str(self.config.agent_id):
            raise ApiError(40056)

    # media/upload

    def upload_media(self, access_token: str | None, media_type: str | None, upload: UploadedFile | None) -> ApiOutcome:
        """Handle `media/upload`: store the file for 3 days and return its media_id."""
        return self._call("media/upload", access_token, lambda: self._store_upload(media_type, upload))

    def upload_robot_media(self, key: str | None, media_type: str | None, upload: UploadedFile | None) -> ApiOutcome:
        """Handle a robot's `webhook/upload_media`: files and voice only, stored like `media/upload`."""

        def handle() -> dict[str, Any]:
            self._chats.check_robot_key(key)
            if media_type not in ("file", "voice"):
                raise ApiError(40005)
            return self._store_upload(media_type, upload)

        return self._call("webhook/upload_media", None, handle, needs_token=False)

    def _store_upload(self, media_type: str | None, upload: UploadedFile | None) -> dict[str, Any]:
        data = upload.data if upload is not None else b""
        errcode = self._media.check_upload(media_type, data)
        if errcode:
            raise ApiError(errcode)
        assert upload is not None and media_type is not None
        media = self._media.add(media_type, upload.filename, upload.content_type, data, self._clock())
        # WeCom returns created_at as a string of Unix seconds.
        return {
            "errcode": 0,
            "errmsg": "ok",
            "type": media_type,
            "media_id": media.media_id,
            "created_at": str(int(media.created_at)),
        }

    # message/send

    def send_message(self, access_token: str | None, payload: Any) -> ApiOutcome:
        """Handle `message/send`: validate, then deliver to each valid member within the limits."""

        def handle() -> dict[str, Any]:
            if not isinstance(payload, dict):
                raise ApiError(47001)
            self._check_agent(payload)
            msgtype = payload.get("msgtype")
            if msgtype not in SENDABLE_MSGTYPES or not isinstance(payload.get(msgtype), dict):
                raise ApiError(40008)
            content, media = self._message_content(msgtype, payload[msgtype])
            return self._deliver(payload, content, media)

        return self._call("message/send", access_token, handle)

    def _message_content(self, msgtype: str, body: dict[str, Any]) -> tuple[Any, Media | None]:
        """Return (content, media) where content is the text, or the msgtype's object."""
        if msgtype in ("text", "markdown"):
            # NOTE: WeCom's "发送应用消息" page says text beyond 2,048 bytes is truncated, while
            # 45002 is WeCom's errcode for oversized content elsewhere. The emulator rejects with
            # 45002 so that a sender which forgets to split long text fails its tests.
            return text_content(body, TEXT_MAX_BYTES), None
        if msgtype in ("image", "file"):
            errcode, media = self._media.lookup_for_message(msgtype, body, self._clock())
            if errcode:
                raise ApiError(errcode)
            return body, media
        if msgtype == "template_card":
            validate_card(body, self._cards.task_ids())
        return body, None

    def _deliver(self, payload: dict[str, Any], content: Any, media: Media | None) -> dict[str, Any]:
        recipients = [user for user in str(payload.get("touser") or "").split("|") if user]
        # NOTE: toparty, totag and "@all" are not expanded; only explicit userids are delivered.
        invalid = [user.lower() for user in recipients if not self._is_known(user)]
        valid = [user for user in recipients if self._is_known(user)]
        if not valid:
            body = error_body(81013)
            if invalid:
                body["invaliduser"] = "|".join(invalid)
            return body

        msgid = secrets.token_urlsafe(24)
        now = self._clock()
        task_id = content.get("task_id") if payload["msgtype"] == "template_card" else None
        for user in valid:
            record = {
                "id": self._take_id(),
                "msgid": msgid,
                "touser": user,
                "agentid": self.config.agent_id,
                "msgtype": payload["msgtype"],
                "content": content,
                "timestamp": now,
            }
            if media is not None:
                record["media"] = media.metadata()
            if task_id is not None:
                record["task_id"] = task_id
            reason = self._rate_limit_reason(user, now)
            if reason is None:
                self._messages.append(record)
            else:
                record["reason"] = reason
                self._dropped.append(record)

        body: dict[str, Any] = {"errcode": 0, "errmsg": "ok", "msgid": msgid}
        if invalid:
            body["invaliduser"] = "|".join(invalid)
        if task_id is not None:
            self._cards.add(content, valid, now)
            if content.get("card_type") in ("button_interaction", "vote_interaction", "multiple_interaction"):
                body["response_code"] = self._cards.issue_code(task_id, None, now)
        return body

    def _is_known(self, user: str) -> bool:
        return self._known_users is None or user.lower() in self._known_users

    def _rate_limit_reason(self, user: str, now: float) -> str | None:
        """Record a delivery and return None, or return why the member's limit drops it.

        NOTE: WeCom does not say whether its minute and hour windows are fixed or sliding; the
        emulator slides them, which never allows more than a fixed window would.
        """
        window = self._windows.setdefault(user.lower(), _MemberWindow())
        while window.times and window.times[0] <= now - 3600:
            window.times.popleft()
        if len(window.times) >= self.config.hour_limit_per_member:
            return "hour_limit"
        in_last_minute = sum(1 for t in window.times if t > now - 60)
        if in_last_minute >= self.config.minute_limit_per_member:
            return "minute_limit"
        window.times.append(now)
        return None

    # message/update_template_card

    def update_template_card(self, access_token: str | None, payload: Any) -> ApiOutcome:
        """Handle `message/update_template_card`: spend the response code and grey the card out.

        The card turns grey for every recipient, whichever of `userids`, `partyids`, `tagids`
        and `atall` the request names. Userids that did not receive the card come back in
        `invaliduser`.
        """

        def handle() -> dict[str, Any]:
            if not isinstance(payload, dict):
                raise ApiError(47001)
            self._check_agent(payload)
            userids = payload.get("userids") or []
            if not isinstance(userids, list):
                raise ApiError(40058, "userids must be a list")
            button = payload.get("button")
            replacement = payload.get("template_card")
            if not isinstance(button, dict) and not isinstance(replacement, dict):
                raise ApiError(40058, "button or template_card is required")
            if isinstance(button, dict) and not isinstance(button.get("replace_name"), str):
                raise ApiError(40058, "button.replace_name is required")

            now = self._clock()
            card = self._cards.use_code(payload.get("response_code"), now)
            card.updated = True
            card.updated_at = now
            card.update_userids = [str(user) for user in userids]
            if isinstance(button, dict):
                card.replace_name = button["replace_name"]
            else:
                card.content = replacement
            invalid = [str(user) for user in userids if str(user) not in card.recipients]
            return {"errcode": 0, "errmsg": "ok", "invaliduser": invalid}

        return self._call("message/update_template_card", access_token, handle)

    # appchat/create and appchat/send

    def create_appchat(self, access_token: str | None, payload: Any) -> ApiOutcome:
        def handle() -> dict[str, Any]:
            if not isinstance(payload, dict):
                raise ApiError(47001)
            chat = self._chats.create(payload, self._clock())
            return {"errcode": 0, "errmsg": "ok", "chatid": chat.chatid}

        return self._call("appchat/create", access_token, handle)

    def send_appchat(self, access_token: str | None, payload: Any) -> ApiOutcome:
        """Handle `appchat/send`: no cards, and at most 200 messages a minute per chat.

        NOTE: WeCom documents the 200-a-minute limit but not what the excess meets, so the
        emulator returns 45009 and delivers nothing.
        """

        def handle() -> dict[str, Any]:
            if not isinstance(payload, dict):
                raise ApiError(47001)
            chat = self._chats.check_appchat_send(payload)
            msgtype = payload.get("msgtype")
            if msgtype not in APPCHAT_MSGTYPES or not isinstance(payload.get(msgtype), dict):
                raise ApiError(40008)
            content, media = self._message_content(msgtype, payload[msgtype])
            now = self._clock()
            if not take_slot(chat.sent_times, now, APPCHAT_MINUTE_LIMIT):
                raise ApiError(45009)
            self._record_group_message("appchat", chat.chatid, msgtype, content, media, now)
            return {"errcode": 0, "errmsg": "ok"}

        return self._call("appchat/send", access_token, handle)

    # webhook/send

    def send_webhook(self, key: str | None, payload: Any) -> ApiOutcome:
        """Handle a group robot's `webhook/send`: at most 20 messages a minute per robot (45009)."""

        def handle() -> dict[str, Any]:
            robot_key = self._chats.check_robot_key(key)
            if not isinstance(payload, dict):
                raise ApiError(47001)
            msgtype = payload.get("msgtype")
            if msgtype not in ROBOT_MSGTYPES or not isinstance(payload.get(msgtype), dict):
                raise ApiError(40008)
            body = payload[msgtype]
            now = self._clock()
            media: Media | None = None
            if msgtype == "text":
                content: Any = text_content(body, ROBOT_TEXT_MAX_BYTES)
            elif msgtype == "markdown":
                content = text_content(body, ROBOT_MARKDOWN_MAX_BYTES)
            elif msgtype == "image":
                content, media = decode_robot_image(body, self._media, now)
            else:
                content, media = self._message_content("file", body)
            if not self._chats.robot_slot(robot_key, now):
                raise ApiError(45009)
            self._record_group_message("robot", robot_key, msgtype, content, media, now)
            return {"errcode": 0, "errmsg": "ok"}

        return self._call("webhook/send", None, handle, needs_token=False)

    def _record_group_message(
        self, kind: str, target: str, msgtype: str, content: Any, media: Media | None, now: float
    ) -> None:
        record: dict[str, Any] = {
            "id": self._take_id(),
            "kind": kind,
            "chatid" if kind == "appchat" else "key": target,
            "msgtype": msgtype,
            "content": content,
            "timestamp": now,
        }
        if media is not None:
            record["media"] = media.metadata()
        self._group_messages.append(record)

    # The emulated member's side: card clicks and what the member sent

    def prepare_card_click(self, user: str, task_id: str, button_key: str) -> tuple[str, str]:
        """Issue a fresh response code for `user` clicking `button_key`; return (code, card_type).

        Raises ClickRejected when the card does not exist (404), did not go to `user` (403), has
        no such button (400) or was already updated (409).
        """
        with self._lock:
            card = self._cards.cards.get(task_id)
            if card is None:
                raise ClickRejected(404, f"没有任务卡片 {task_id!r}")
            if user.lower() not in {recipient.lower() for recipient in card.recipients}:
                raise ClickRejected(403, f"任务卡片 {task_id!r} 没有发给 {user}")
            text = button_text(card.content, button_key)
            if text is None:
                raise ClickRejected(400, f"任务卡片 {task_id!r} 没有按钮 {button_key!r}")
            if card.updated:
                raise ClickRejected(409, f"任务卡片 {task_id!r} 已更新，按钮不可再点")
            now = self._clock()
            code = self._cards.issue_code(task_id, user, now)
            card.clicks.append({"user": user, "key": button_key, "timestamp": now})
            content = {"task_id": task_id, "key": button_key, "text": text}
            self._record_inbound(user, "card_click", content, now)
            return code, card.card_type

    def record_member_text(self, user: str, text: str) -> None:
        """Remember a text the emulated member sent, for the page's conversation view."""
        with self._lock:
            self._record_inbound(user, "text", text, self._clock())

    def _record_inbound(self, user: str, msgtype: str, content: Any, now: float) -> None:
        self._inbound.append(
            {"id": self._take_id(), "fromuser": user, "msgtype": msgtype, "content": content, "timestamp": now}
        )

    # Inspection

    def _with_card_state(self, message: dict[str, Any]) -> dict[str, Any]:
        result = dict(message)
        card = self._cards.cards.get(message.get("task_id", ""))
        if card is not None:
            result["card"] = card.state()
            if card.updated and card.replace_name is None:
                result["content"] = card.content
        return result

    def messages(self, touser: str | None = None, after: int = 0) -> list[dict[str, Any]]:
        with self._lock:
            return [
                self._with_card_state(m)
                for m in self._messages
                if m["id"] > after and (touser is None or m["touser"] == touser)
            ]

    def dropped(self, touser: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(m) for m in self._dropped if touser is None or m["touser"] == touser]

    def conversation(self, user: str, after: int = 0) -> list[dict[str, Any]]:
        """Return what `user` sent and received after id `after`, oldest first, each with `direction`."""
        with self._lock:
            sent = [dict(m, direction="in") for m in self._inbound if m["fromuser"] == user and m["id"] > after]
            received = [
                dict(self._with_card_state(m), direction="out")
                for m in self._messages
                if m["touser"] == user and m["id"] > after
            ]
        return sorted(sent + received, key=lambda m: m["id"])

    def group_messages(self, kind: str, target: str, after: int = 0) -> list[dict[str, Any]]:
        field_name = "chatid" if kind == "appchat" else "key"
        with self._lock:
            return [
                dict(m)
                for m in self._group_messages
                if m["kind"] == kind and m[field_name] == target and m["id"] > after
            ]

    def chats(self) -> dict[str, Any]:
        """Return the app group chats and the robots that have messages, each with a message count."""
        with self._lock:
            counts: dict[tuple[str, str], int] = {}
            for m in self._group_messages:
                target = m["chatid"] if m["kind"] == "appchat" else m["key"]
                counts[(m["kind"], target)] = counts.get((m["kind"], target), 0) + 1
            appchats = [
                dict(chat.summary(), message_count=counts.get(("appchat", chat.chatid), 0))
                for chat in self._chats.appchats.values()
            ]
            robots = [
                {"key": target, "message_count": count} for (kind, target), count in counts.items() if kind == "robot"
            ]
        return {"appchats": appchats, "robots": robots}

    def card(self, task_id: str) -> dict[str, Any] | None:
        with self._lock:
            card = self._cards.cards.get(task_id)
            return None if card is None else dict(card.state(), content=card.content, sent_at=card.sent_at)

    def media(self, media_id: str) -> Media | None:
        with self._lock:
            return self._media.get(media_id, self._clock())

    def users(self) -> dict[str, list[str]]:
        """Return the member directory (empty when any userid is accepted) and the members seen so far."""
        with self._lock:
            seen = {m["touser"] for m in self._messages} | {m["fromuser"] for m in self._inbound}
            for chat in self._chats.appchats.values():
                seen.update(chat.userlist)
        known = sorted(self.config.known_users or ())
        return {"known": known, "seen": sorted(seen)}

    def stats(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counters)
