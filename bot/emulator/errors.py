"""WeCom's error bodies: errcodes with their errmsg texts, and the exception that carries one."""

from __future__ import annotations

from typing import Any

# errmsg texts in WeCom's style, without the "hint"/"more info" suffix real servers append.
# WeCom's documentation tells clients to branch on errcode only, because errmsg texts change.
ERRMSG = {
    -1: "system busy",
    0: "ok",
    40001: "invalid credential",
    40004: "invalid media type",
    40005: "invalid type",
    40006: "invalid file size",
    40007: "invalid media_id",
    40008: "invalid message type",
    40009: "invalid image size",
    40011: "invalid video size",
    40013: "invalid corpid",
    40014: "invalid access_token",
    40056: "invalid agentid",
    40058: "invalid parameter",
    41001: "access_token missing",
    41002: "corpid missing",
    41004: "corpsecret missing",
    41006: "media_id missing",
    41011: "missing agentid",
    42001: "access_token expired",
    42014: "taskid has existed or empty or exceed max len",
    42018: "invalid button key",
    42019: "button key missing",
    42020: "button name missing",
    42022: "code has been used",
    44001: "empty media data",
    44004: "empty content",
    45002: "content size out of limit",
    45009: "api freq out of limit",
    45033: "api concurrent out of limit",
    47001: "data format error",
    81013: "user & party & tag all invalid",
    86001: "chatid invalid",
    86003: "chatid not exist",
    86006: "invalid chat member list size",
    86007: "invalid chat member",
    86201: "chatid missing",
    86204: "chat member list missing",
    86207: "chat owner not in member list",
    86215: "chatid already exists",
    93000: "invalid webhook url",
}


def error_body(errcode: int, errmsg: str | None = None) -> dict[str, Any]:
    return {"errcode": errcode, "errmsg": errmsg or ERRMSG.get(errcode, "injected fault")}


class ApiError(Exception):
    """A request the emulator rejects, with WeCom's errcode and an optional errmsg naming the field."""

    def __init__(self, errcode: int, errmsg: str | None = None) -> None:
        super().__init__(errmsg or ERRMSG.get(errcode, str(errcode)))
        self.errcode = errcode
        self.errmsg = errmsg

    def body(self) -> dict[str, Any]:
        return error_body(self.errcode, self.errmsg)
