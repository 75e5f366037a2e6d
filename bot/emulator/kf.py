"""WeChat customer service (微信客服, kf) in the emulator: `kf/sync_msg`, `kf/send_msg`, and customers.

WeCom's rules that the state enforces:

- A customer message makes WeCom post `kf_msg_or_event` to the app's callback with a `Token`
  valid for 10 minutes; `kf/sync_msg` accepts that token (or none) and pages by `next_cursor`,
  at most 1,000 messages a page.
- `kf/send_msg` may send at most 5 messages in the 48 hours after the customer's last message.
  The 6th fails with 95001 and a send after 48 hours with 95002; an unknown customer fails with
  40096 and an unknown account with 95000.

`/emulator/api/kf/...` lets tests and people act as a customer and read what the bot sent.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from bot.emulator.device import WeComDevice, build_xml
from bot.emulator.errors import error_body
from bot.emulator.state import EmulatorConfig, EmulatorState

logger = logging.getLogger(__name__)

DEFAULT_OPEN_KFID = "wkZhongshuDemoService"
SYNC_TOKEN_TTL_SECONDS = 600
SYNC_LIMIT_MAX = 1000
REPLY_WINDOW_SECONDS = 48 * 3600
REPLIES_PER_WINDOW = 5
TEXT_MAX_BYTES = 2048
SENDABLE_MSGTYPES = frozenset({"text", "image", "voice", "video", "file", "link", "miniprogram", "msgmenu", "location"})

# 95001 (send count limit) and 40096 (invalid external userid) are WeCom's documented errcodes
# for kf/send_msg. NOTE: 95002 (send time limit) and 95007 (invalid sync token) follow the
# numbering of WeCom's 950xx kf errcodes but were not confirmed against its errcode page.
INVALID_OPEN_KFID = 95000
SEND_COUNT_LIMIT = 95001
SEND_TIME_LIMIT = 95002
INVALID_SYNC_TOKEN = 95007
INVALID_EXTERNAL_USERID = 40096

KF_ERRMSG = {
    INVALID_OPEN_KFID: "invalid open_kfid",
    SEND_COUNT_LIMIT: "send msg count limit",
    SEND_TIME_LIMIT: "send msg time limit",
    INVALID_SYNC_TOKEN: "invalid msg token",
    INVALID_EXTERNAL_USERID: "invalid external userid",
}


def _error(errcode: int, errmsg: str | None = None) -> dict[str, Any]:
    return error_body(errcode, errmsg or KF_ERRMSG.get(errcode))


@dataclass
class _ReplyWindow:
    """Replies allowed to one customer: from their last message, 5 sends within 48 hours."""

    last_customer_message: float
    sent: int = 0


@dataclass
class KfEmulatorState:
    """Accounts, customer messages, sync tokens, reply windows and what was sent."""

    clock: Callable[[], float]
    accounts: set[str] = field(default_factory=lambda: {DEFAULT_OPEN_KFID})
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget messages, tokens, windows and sends; accounts stay."""
        self.inbound: list[dict[str, Any]] = []
        self.tokens: dict[str, float] = {}
        self.windows: dict[tuple[str, str], _ReplyWindow] = {}
        self.sent: list[dict[str, Any]] = []
        self.rejected: list[dict[str, Any]] = []
        self.next_sent_id = 1

    # Customers

    def add_customer_message(
        self, open_kfid: str, external_userid: str, msgtype: str, body: dict[str, Any], send_time: float | None
    ) -> tuple[str, str]:
        """Store a customer's message, open a new reply window, and return (msgid, callback token)."""
        with self.lock:
            now = self.clock()
            self.accounts.add(open_kfid)
            sent_at = now if send_time is None else send_time
            msgid = "kfmsg_" + secrets.token_hex(12)
            self.inbound.append(
                {
                    "msgid": msgid,
                    "open_kfid": open_kfid,
                    "external_userid": external_userid,
                    "send_time": int(sent_at),
                    "origin": 3,
                    "msgtype": msgtype,
                    msgtype: body,
                }
            )
            key = (open_kfid, external_userid)
            window = self.windows.get(key)
            if window is None or sent_at >= window.last_customer_message:
                self.windows[key] = _ReplyWindow(last_customer_message=sent_at)
            token = "ENC" + secrets.token_urlsafe(32)
            self.tokens[token] = now + SYNC_TOKEN_TTL_SECONDS
            return msgid, token

    # kf/sync_msg

    def sync_msg(self, payload: Any) -> dict[str, Any]:
        if not isinstance(payload, dict):
            return _error(47001)
        with self.lock:
            token = payload.get("token")
            if token and self.tokens.get(token, 0) <= self.clock():
                return _error(INVALID_SYNC_TOKEN)
            # NOTE: WeCom rate-limits calls without a token much more strictly; the emulator does not.
            open_kfid = payload.get("open_kfid")
            if open_kfid and open_kfid not in self.accounts:
                return _error(INVALID_OPEN_KFID)
            start = self._cursor_position(payload.get("cursor"))
            if start is None:
                return _error(40058, "invalid cursor")
            limit = payload.get("limit") or SYNC_LIMIT_MAX
            if not isinstance(limit, int) or limit < 1:
                return _error(40058, "invalid limit")
            limit = min(limit, SYNC_LIMIT_MAX)

            # The cursor is a position in the whole message list, so one cursor serves any account filter.
            page: list[dict[str, Any]] = []
            position = start
            for index in range(start, len(self.inbound)):
                if len(page) == limit:
                    break
                position = index + 1
                item = self.inbound[index]
                if not open_kfid or item["open_kfid"] == open_kfid:
                    page.append(dict(item))
            has_more = any(
                not open_kfid or item["open_kfid"] == open_kfid for item in self.inbound[position:]
            )
            return {
                "errcode": 0,
                "errmsg": "ok",
                "next_cursor": f"c{position}",
                "has_more": 1 if has_more else 0,
                "msg_list": page,
            }

    def _cursor_position(self, cursor: Any) -> int | None:
        if not cursor:
            return 0
        if not isinstance(cursor, str) or not cursor.startswith("c") or not cursor[1:].isdigit():
            return None
        return min(int(cursor[1:]), len(self.inbound))

    # kf/send_msg

    def send_msg(self, payload: Any, media_exists: Callable[[str], bool]) -> dict[str, Any]:
        if not isinstance(payload, dict):
            return _error(47001)
        with self.lock:
            body = self._check_send(payload, media_exists)
            touser = str(payload.get("touser") or "")
            if body is not None:
                self.rejected.append({"touser": touser, "errcode": body["errcode"], "timestamp": self.clock()})
                return body

            window = self.windows[(payload["open_kfid"], touser)]
            window.sent += 1
            msgtype = payload["msgtype"]
            msgid = str(payload.get("msgid") or secrets.token_hex(16))
            record = {
                "id": self.next_sent_id,
                "msgid": msgid,
                "open_kfid": payload["open_kfid"],
                "touser": touser,
                "msgtype": msgtype,
                "content": payload[msgtype].get("content") if msgtype == "text" else payload[msgtype],
                "timestamp": self.clock(),
            }
            self.next_sent_id += 1
            self.sent.append(record)
            return {"errcode": 0, "errmsg": "ok", "msgid": msgid}

    def _check_send(self, payload: dict[str, Any], media_exists: Callable[[str], bool]) -> dict[str, Any] | None:
        """Return WeCom's error body for a send that breaks a rule, or None when it may go out."""
        open_kfid = payload.get("open_kfid")
        if not open_kfid or open_kfid not in self.accounts:
            return _error(INVALID_OPEN_KFID)
        window = self.windows.get((open_kfid, str(payload.get("touser") or "")))
        if window is None:
            return _error(INVALID_EXTERNAL_USERID)

        msgtype = payload.get("msgtype")
        content = payload.get(msgtype) if isinstance(msgtype, str) else None
        if msgtype not in SENDABLE_MSGTYPES or not isinstance(content, dict):
            return _error(40008)
        if msgtype == "text":
            text = content.get("content")
            if not isinstance(text, str) or not text:
                return _error(44004)
            if len(text.encode("utf-8")) > TEXT_MAX_BYTES:
                return _error(45002)
        if msgtype in ("image", "voice", "video", "file") and not media_exists(str(content.get("media_id") or "")):
            return _error(40007)

        if self.clock() > window.last_customer_message + REPLY_WINDOW_SECONDS:
            return _error(SEND_TIME_LIMIT)
        if window.sent >= REPLIES_PER_WINDOW:
            return _error(SEND_COUNT_LIMIT)
        return None

    # Inspection

    def sent_messages(self, touser: str | None, after: int) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(m) for m in self.sent if m["id"] > after and (touser is None or m["touser"] == touser)]

    def rejected_sends(self, touser: str | None) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(r) for r in self.rejected if touser is None or r["touser"] == touser]


class CustomerMessageRequest(BaseModel):
    external_userid: str = Field(min_length=1, max_length=64)
    text: str = Field(min_length=1)
    open_kfid: str = Field(default=DEFAULT_OPEN_KFID, min_length=1, max_length=64)
    send_time: float | None = Field(default=None, description="Unix seconds; default: the emulator's now")
    notify: bool = Field(default=True, description="post kf_msg_or_event to the callback URL when one is configured")


def kf_event_xml(corp_id: str, open_kfid: str, token: str, create_time: int) -> str:
    """Return the plain XML of WeCom's `kf_msg_or_event` callback, which has no FromUserName."""
    return build_xml(
        {
            "ToUserName": corp_id,
            "CreateTime": create_time,
            "MsgType": "event",
            "Event": "kf_msg_or_event",
            "Token": token,
            "OpenKfId": open_kfid,
        }
    )


async def _json_body(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        return None


def create_kf_router(state: EmulatorState, config: EmulatorConfig, clock: Callable[[], float]) -> APIRouter:
    """Build the kf routes on the emulator's access tokens and media; kf state lives in the router."""
    kf = KfEmulatorState(clock)
    router = APIRouter()
    router.kf_state = kf  # type: ignore[attr-defined]  # for tests in the same process

    def token_error(access_token: str | None) -> JSONResponse | None:
        # The access token is the app's, issued by the emulator's gettoken.
        errcode = state._check_token(access_token)
        return JSONResponse(error_body(errcode)) if errcode else None

    def media_exists(media_id: str) -> bool:
        return bool(media_id) and state.media(media_id) is not None

    @router.post("/cgi-bin/kf/sync_msg")
    async def sync_msg(request: Request, access_token: str | None = None) -> JSONResponse:
        return token_error(access_token) or JSONResponse(kf.sync_msg(await _json_body(request)))

    @router.post("/cgi-bin/kf/send_msg")
    async def send_msg(request: Request, access_token: str | None = None) -> JSONResponse:
        failure = token_error(access_token)
        if failure is not None:
            return failure
        body = kf.send_msg(await _json_body(request), media_exists)
        if body["errcode"]:
            logger.info("kf/send_msg rejected: errcode %s", body["errcode"])
        return JSONResponse(body)

    @router.post("/emulator/api/kf/customer_message")
    def post_customer_message(request: CustomerMessageRequest) -> JSONResponse:
        """Store a customer's text and, when a callback URL is configured, post `kf_msg_or_event` to it.

        The response always carries the token, so with `notify` false a test can post the event itself.
        """
        msgid, token = kf.add_customer_message(
            request.open_kfid, request.external_userid, "text", {"content": request.text}, request.send_time
        )
        body: dict[str, Any] = {"msgid": msgid, "token": token, "open_kfid": request.open_kfid, "status_code": None}
        if not config.callback_url or not request.notify:
            return JSONResponse(body)
        device = WeComDevice(config.callback_url, config.callback_token, config.callback_aes_key, config.corp_id, config.agent_id)
        try:
            response = device.post_raw(kf_event_xml(config.corp_id, request.open_kfid, token, int(clock())))
        except httpx.HTTPError as error:
            logger.warning("kf callback post to %s failed: %s", config.callback_url, error)
            raise HTTPException(502, f"回调地址无法访问：{error}") from error
        finally:
            device.close()
        body["status_code"] = response.status_code
        return JSONResponse(body)

    @router.get("/emulator/api/kf/messages")
    def list_sent(touser: str | None = None, after: int = 0) -> JSONResponse:
        return JSONResponse({"messages": kf.sent_messages(touser, after)})

    @router.get("/emulator/api/kf/rejected")
    def list_rejected(touser: str | None = None) -> JSONResponse:
        return JSONResponse({"sends": kf.rejected_sends(touser)})

    @router.post("/emulator/api/kf/reset")
    def reset() -> JSONResponse:
        with kf.lock:
            kf.reset()
        return JSONResponse({"ok": True})

    return router
