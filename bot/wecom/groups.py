"""Typed senders to group chats: app group chats (`appchat/*`) and group robots (`webhook/*`).

App group chats use the app's access token through `WeComClient._post`, which refreshes it once
on 40014/42001. A group robot needs no token: its webhook key is the credential, so robot calls
go straight to `<api base>webhook/send?key=...` and the key never reaches a log line.

Rules from WeCom's "创建群聊会话", "应用推送消息" and "群机器人配置说明" pages: only a self-built
app whose visible range is the root department may create and use app group chats. A chat id is
at most 32 characters of [0-9A-Za-z], and app group chats take no template cards. A robot image
is sent as base64 with the MD5 of the raw bytes, at most 2 MB.

Like `WeComClient`, these return WeCom's errcodes in their results and raise `WeComUnavailable`
only for transport failures.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from bot.wecom.client import MediaResult, SendResult, WeComClient, WeComUnavailable

log = logging.getLogger(__name__)

ROBOT_IMAGE_MAX_BYTES = 2 * 1024 * 1024
CHAT_ID_EXISTS = 86215
CHAT_ID_NOT_FOUND = 86003


class MediaTooLarge(ValueError):
    """Raised when a file is larger than WeCom accepts for that message type; names the path and size."""


@dataclass(frozen=True)
class ChatCreated:
    """The response to one `appchat/create` call; `ok` means errcode 0."""

    ok: bool
    errcode: int
    errmsg: str
    chatid: str | None

    @property
    def already_exists(self) -> bool:
        return self.errcode == CHAT_ID_EXISTS


class AppChatClient:
    """Creates app group chats and sends messages to them with the app's access token."""

    def __init__(self, client: WeComClient) -> None:
        self.client = client

    def create(self, chatid: str, name: str, owner: str, members: Sequence[str]) -> ChatCreated:
        """Create a chat with a chat id chosen by the caller, so that no id needs storing.

        WeCom returns 86215 when the id is taken; `ChatCreated.already_exists` reports that.
        """
        data = {"chatid": chatid, "name": name, "owner": owner, "userlist": list(members)}
        body = self.client._post("appchat/create", data)
        errcode = int(body.get("errcode", 0))
        return ChatCreated(
            ok=errcode == 0, errcode=errcode, errmsg=str(body.get("errmsg", "")), chatid=body.get("chatid") or None
        )

    def send(self, chatid: str, message: dict[str, Any]) -> SendResult:
        """Send one message: `message` contains `msgtype` and that type's object."""
        return SendResult.from_body(self.client._post("appchat/send", {"chatid": chatid, **message}))

    def send_media(self, chatid: str, media_type: str, path: str) -> SendResult:
        """Upload an image or file with `media/upload` and send it to the chat."""
        media = self.client.upload_media(media_type, path)
        if not media.ok:
            return SendResult(ok=False, errcode=media.errcode, errmsg=media.errmsg, msgid=None)
        return self.send(chatid, {"msgtype": media_type, media_type: {"media_id": media.media_id}})


class RobotClient:
    """Sends messages through group robot webhooks, on the HTTP session and API base of a `WeComClient`."""

    def __init__(self, client: WeComClient) -> None:
        self.http = client.api._http
        self.api_base = client.api.API_BASE_URL
        self.timeout = client.api.timeout

    def send(self, key: str, message: dict[str, Any]) -> SendResult:
        """Send one text, markdown, image or file message: `message` contains `msgtype` and its object."""
        return SendResult.from_body(self._post("webhook/send", key, json=message))

    def send_image(self, key: str, path: str) -> SendResult:
        """Send a JPG or PNG file as base64 with the MD5 of its raw bytes.

        Raises MediaTooLarge above 2 MB, which WeCom would reject, and OSError when the file is unreadable.
        """
        data = Path(path).read_bytes()
        if len(data) > ROBOT_IMAGE_MAX_BYTES:
            raise MediaTooLarge(f"{path} is {len(data)} bytes; a robot image may be at most {ROBOT_IMAGE_MAX_BYTES}")
        image = {"base64": base64.b64encode(data).decode("ascii"), "md5": hashlib.md5(data).hexdigest()}
        return self.send(key, {"msgtype": "image", "image": image})

    def upload_file(self, key: str, path: str) -> MediaResult:
        """Upload a file with `webhook/upload_media` for a later file message."""
        with open(path, "rb") as media:
            body = self._post("webhook/upload_media", key, params={"type": "file"}, files={"media": media})
        errcode = int(body.get("errcode", 0))
        return MediaResult(
            ok=errcode == 0, errcode=errcode, errmsg=str(body.get("errmsg", "")), media_id=body.get("media_id") or None
        )

    def send_file(self, key: str, path: str) -> SendResult:
        media = self.upload_file(key, path)
        if not media.ok:
            return SendResult(ok=False, errcode=media.errcode, errmsg=media.errmsg, msgid=None)
        return self.send(key, {"msgtype": "file", "file": {"media_id": media.media_id}})

    def _post(self, endpoint: str, key: str, *, params: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self.http.post(
                self.api_base + endpoint, params={**(params or {}), "key": key}, timeout=self.timeout, **kwargs
            )
            response.raise_for_status()
            body = response.json()
        except requests.RequestException as error:
            # The message of a requests error contains the URL, and with it the key.
            raise WeComUnavailable(f"{endpoint} request failed: {type(error).__name__}") from None
        except ValueError:
            raise WeComUnavailable(f"{endpoint} returned a response body that is not JSON") from None
        if not isinstance(body, dict):
            raise WeComUnavailable(f"{endpoint} returned a response body that is not a JSON object")
        if int(body.get("errcode", 0)) != 0:
            log.warning("%s failed: errcode %s %s", endpoint, body.get("errcode"), body.get("errmsg", ""))
        return body


def send_group_payload(client: WeComClient, kind: str, payload: dict[str, Any]) -> SendResult:
    """Send one stored outbox payload of kind `appchat` (with `chatid`) or `robot` (with `key`).

    Images and files are stored as a `path` and uploaded here, right before the send, because
    WeCom keeps a media id for 3 days only.
    """
    msgtype = payload["msgtype"]
    if kind == "appchat":
        result = _send_to_appchat(client, payload)
        if result.errcode == CHAT_ID_NOT_FOUND and payload.get("chat"):
            return _create_and_resend(client, payload)
        return result
    if kind == "robot":
        robot = RobotClient(client)
        if msgtype == "image":
            return robot.send_image(payload["key"], payload["path"])
        if msgtype == "file":
            return robot.send_file(payload["key"], payload["path"])
        return robot.send(payload["key"], {"msgtype": msgtype, msgtype: payload[msgtype]})
    raise ValueError(f"not a group outbox kind: {kind!r}")


def _send_to_appchat(client: WeComClient, payload: dict[str, Any]) -> SendResult:
    chats = AppChatClient(client)
    msgtype = payload["msgtype"]
    if msgtype in ("image", "file"):
        return chats.send_media(payload["chatid"], msgtype, payload["path"])
    return chats.send(payload["chatid"], {"msgtype": msgtype, msgtype: payload[msgtype]})


def _create_and_resend(client: WeComClient, payload: dict[str, Any]) -> SendResult:
    """Create the chat a send found missing (86003) from the payload's `chat`, then send again once."""
    chat = payload["chat"]
    created = AppChatClient(client).create(payload["chatid"], chat["name"], chat["owner"], chat["members"])
    if not (created.ok or created.already_exists):
        log.warning("app group chat not created: chatid=%s errcode=%s", payload["chatid"], created.errcode)
        return SendResult(ok=False, errcode=created.errcode, errmsg=created.errmsg, msgid=None)
    log.info("app group chat created on its first message: chatid=%s", payload["chatid"])
    return _send_to_appchat(client, payload)
