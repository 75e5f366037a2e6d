"""A typed client for WeChat customer service (微信客服, kf): `kf/sync_msg` and `kf/send_msg`.

wechatpy 1.8.18 has no kf client, so this one posts through `WeComClient._post`, which adds the
cached access token and refreshes it once on 40014/42001. Like `WeComClient`, it returns WeCom's
errcodes in its results and raises `WeComUnavailable` only for transport failures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.wecom.client import SendResult, WeComClient

# `kf/sync_msg` returns at most 1,000 messages per call, which is also its default.
SYNC_LIMIT_MAX = 1000

# The `origin` of a synced message.
ORIGIN_CUSTOMER = 3
ORIGIN_SYSTEM_EVENT = 4
ORIGIN_SERVICER = 5


@dataclass(frozen=True)
class KfMessage:
    """One message or event from `kf/sync_msg`; `body` is the object named by `msgtype`."""

    msgid: str
    open_kfid: str
    external_userid: str
    send_time: int  # Unix seconds
    origin: int
    msgtype: str
    body: dict[str, Any]

    @property
    def text(self) -> str | None:
        return self.body.get("content") if self.msgtype == "text" else None

    @classmethod
    def from_json(cls, item: dict[str, Any]) -> KfMessage:
        msgtype = str(item.get("msgtype") or "")
        body = item.get(msgtype)
        return cls(
            msgid=str(item.get("msgid") or ""),
            open_kfid=str(item.get("open_kfid") or ""),
            external_userid=str(item.get("external_userid") or ""),
            send_time=int(item.get("send_time") or 0),
            origin=int(item.get("origin") or 0),
            msgtype=msgtype,
            body=body if isinstance(body, dict) else {},
        )


@dataclass(frozen=True)
class SyncResult:
    """One page of `kf/sync_msg`; `ok` means errcode 0."""

    ok: bool
    errcode: int
    errmsg: str
    next_cursor: str | None
    has_more: bool
    messages: tuple[KfMessage, ...]


class KfClient:
    """Reads and sends WeChat customer service messages with the app's access token."""

    def __init__(self, client: WeComClient) -> None:
        self.client = client

    def sync_msg(
        self, *, open_kfid: str | None, token: str | None, cursor: str | None, limit: int = SYNC_LIMIT_MAX
    ) -> SyncResult:
        """Return the next page of messages after `cursor` (from the oldest of the last 3 days without one).

        `token` is the callback's Token, valid for 10 minutes; without it WeCom applies a much
        stricter rate limit.
        """
        data: dict[str, Any] = {"limit": min(limit, SYNC_LIMIT_MAX)}
        if open_kfid:
            data["open_kfid"] = open_kfid
        if token:
            data["token"] = token
        if cursor:
            data["cursor"] = cursor
        body = self.client._post("kf/sync_msg", data)
        errcode = int(body.get("errcode", 0))
        items = body.get("msg_list") or []
        return SyncResult(
            ok=errcode == 0,
            errcode=errcode,
            errmsg=str(body.get("errmsg", "")),
            next_cursor=body.get("next_cursor") or None,
            has_more=bool(body.get("has_more")),
            messages=tuple(KfMessage.from_json(item) for item in items if isinstance(item, dict)),
        )

    def send_msg(self, open_kfid: str, external_userid: str, message: dict[str, Any], msgid: str | None = None) -> SendResult:
        """Send one message to a customer: `message` contains `msgtype` and that type's object.

        `msgid` (at most 32 bytes of [0-9a-zA-Z_-]) comes back unchanged in the result; without it
        WeCom generates one.
        """
        data = {"touser": external_userid, "open_kfid": open_kfid, **message}
        if msgid:
            data["msgid"] = msgid
        return SendResult.from_body(self.client._post("kf/send_msg", data))
