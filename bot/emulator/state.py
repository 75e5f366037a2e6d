"""The WeCom server's state and rules, kept apart from HTTP so that each rule reads on its own.

Every method takes the already-parsed request values and returns the JSON body WeCom would
return, so `bot.emulator.app` only maps routes to these methods. Time comes from the injected
clock, so tests move token expiry and rate windows forward without sleeping.
"""

from __future__ import annotations

import secrets
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.settings import DEV_AES_KEY, DEV_CORP_ID, DEV_SECRET, DEV_TOKEN, Settings

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

# errmsg texts as WeCom returns them, without the "hint"/"more info" suffix real servers append.
ERRMSG = {
    -1: "system busy",
    0: "ok",
    40001: "invalid credential",
    40008: "invalid message type",
    40013: "invalid corpid",
    40014: "invalid access_token",
    40056: "invalid agentid",
    41001: "access_token missing",
    41002: "corpid missing",
    41004: "corpsecret missing",
    41011: "missing agentid",
    42001: "access_token expired",
    44004: "empty content",
    45002: "content size out of limit",
    45009: "api freq out of limit",
    45033: "api concurrent out of limit",
    47001: "data format error",
    81013: "user & party & tag all invalid",
}


def error_body(errcode: int, errmsg: str | None = None) -> dict[str, Any]:
    return {"errcode": errcode, "errmsg": errmsg or ERRMSG.get(errcode, "injected fault")}


@dataclass(frozen=True)
class EmulatorConfig:
    """One WeCom corp with one self-built app, plus the callback the emulated device posts to.

    `known_users` is the member directory: None accepts any userid, a set makes every other
    userid invalid (reported in `invaliduser`, never delivered).
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


@dataclass
class _MemberWindow:
    """Delivery times for one member, oldest first, trimmed to the last hour."""

    times: deque[float] = field(default_factory=deque)


class EmulatorState:
    """Tokens, delivered and dropped messages, rate windows, counters and injected faults."""

    def __init__(self, config: EmulatorConfig, clock: Callable[[], float]) -> None:
        self.config = config
        self._clock = clock
        self._lock = threading.Lock()
        self._known_users = (
            None if config.known_users is None else frozenset(u.lower() for u in config.known_users)
        )
        self._tokens: dict[str, float] = {}
        self._current_token: str | None = None
        self.reset(keep_tokens=False)

    def reset(self, keep_tokens: bool = True) -> None:
        """Clear messages, counters, faults and rate windows; issued tokens stay valid by default."""
        with self._lock:
            self._messages: list[dict[str, Any]] = []
            self._dropped: list[dict[str, Any]] = []
            self._next_id = 1
            self._windows: dict[str, _MemberWindow] = {}
            self._faults: dict[str, deque[Fault]] = {}
            self._counters = {"gettoken_calls": 0, "message_send_calls": 0}
            if not keep_tokens:
                self._tokens.clear()
                self._current_token = None

    # Faults

    def add_fault(self, path: str, fault: Fault, count: int) -> None:
        with self._lock:
            queue = self._faults.setdefault(path, deque())
            queue.extend(Fault(fault.errcode, fault.errmsg, fault.delay_seconds) for _ in range(count))

    def _start_call(self, path: str) -> tuple[dict[str, Any] | None, float]:
        """Count a call to `path` and take its next fault: return (error body or None, delay)."""
        self._counters[path.replace("/", "_") + "_calls"] += 1
        queue = self._faults.get(path)
        fault = queue.popleft() if queue else None
        if fault is None:
            return None, 0.0
        failure = None if fault.errcode is None else error_body(fault.errcode, fault.errmsg)
        return failure, fault.delay_seconds

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

    # message/send

    def send_message(self, access_token: str | None, payload: Any) -> ApiOutcome:
        """Handle `message/send`: validate, then deliver to each valid member within the limits."""
        with self._lock:
            failure, delay = self._start_call("message/send")
            if failure:
                return ApiOutcome(failure, delay)

            errcode = self._check_token(access_token)
            if errcode:
                return ApiOutcome(error_body(errcode), delay)
            if not isinstance(payload, dict):
                return ApiOutcome(error_body(47001), delay)

            errcode, content = self._validate_message(payload)
            if errcode:
                return ApiOutcome(error_body(errcode), delay)

            return ApiOutcome(self._deliver(payload, content), delay)

    def _validate_message(self, payload: dict[str, Any]) -> tuple[int, Any]:
        """Return (errcode, content) where content is the text, or the msgtype's object."""
        agent_id = payload.get("agentid")
        if agent_id in (None, ""):
            return 41011, None
        if str(agent_id) != str(self.config.agent_id):
            return 40056, None

        msgtype = payload.get("msgtype")
        if msgtype not in SENDABLE_MSGTYPES or not isinstance(payload.get(msgtype), dict):
            return 40008, None
        body = payload[msgtype]
        if msgtype not in ("text", "markdown"):
            return 0, body

        content = body.get("content")
        if not isinstance(content, str) or not content:
            return 44004, None
        # NOTE: WeCom's "发送应用消息" page says text beyond 2,048 bytes is truncated, while
        # 45002 is WeCom's errcode for oversized content elsewhere. The emulator rejects with
        # 45002 so that a sender which forgets to split long text fails its tests.
        if len(content.encode("utf-8")) > TEXT_MAX_BYTES:
            return 45002, None
        return 0, content

    def _deliver(self, payload: dict[str, Any], content: Any) -> dict[str, Any]:
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
        for user in valid:
            record = {
                "id": self._next_id,
                "msgid": msgid,
                "touser": user,
                "agentid": self.config.agent_id,
                "msgtype": payload["msgtype"],
                "content": content,
                "timestamp": now,
            }
            self._next_id += 1
            reason = self._rate_limit_reason(user, now)
            if reason is None:
                self._messages.append(record)
            else:
                record["reason"] = reason
                self._dropped.append(record)

        body: dict[str, Any] = {"errcode": 0, "errmsg": "ok", "msgid": msgid}
        if invalid:
            body["invaliduser"] = "|".join(invalid)
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

    # Inspection

    def messages(self, touser: str | None = None, after: int = 0) -> list[dict[str, Any]]:
        with self._lock:
            return [
                dict(m) for m in self._messages if m["id"] > after and (touser is None or m["touser"] == touser)
            ]

    def dropped(self, touser: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(m) for m in self._dropped if touser is None or m["touser"] == touser]

    def stats(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counters)
