"""A WeCom member's phone as WeCom relays it: encrypted, signed callbacks posted to the bot.

WeCom posts each message a member sends to the app as XML encrypted with the app's
EncodingAESKey, inside the envelope `<xml><ToUserName/><AgentID/><Encrypt/></xml>`, with
`msg_signature`, `timestamp` and `nonce` in the query string. App callbacks carry the message
types text, image, voice, video, location and link, plus events; there is no file message type.
"""

from __future__ import annotations

import secrets
import time
from typing import Any
from xml.etree import ElementTree

import httpx
from wechatpy.enterprise.crypto import PrpCrypto, WeChatCrypto
from wechatpy.utils import WeChatSigner

DEFAULT_TIMEOUT_SECONDS = 10.0


def sign(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    """Return WeCom's msg_signature: the SHA-1 of the four values sorted and joined."""
    signer = WeChatSigner()
    signer.add_data(token, timestamp, nonce, encrypted)
    return signer.signature


def cdata(value: str) -> str:
    """Wrap text in CDATA, splitting any "]]>" inside it so the section cannot end early."""
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


class RawXml(str):
    """XML text that `build_xml` inserts as it is, for nested elements such as `SelectedItems`."""


def build_xml(fields: dict[str, Any]) -> str:
    """Render WeCom's plain XML: integers as bare numbers, RawXml as it is, everything else as CDATA."""
    lines = ["<xml>"]
    for name, value in fields.items():
        if isinstance(value, RawXml):
            text = str(value)
        elif isinstance(value, bool) or not isinstance(value, int | float):
            text = cdata(str(value))
        else:
            text = str(value)
        lines.append(f"<{name}>{text}</{name}>")
    lines.append("</xml>")
    return "\n".join(lines)


class WeComDevice:
    """Posts members' messages and events to the bot's callback URL the way WeCom does."""

    def __init__(
        self,
        callback_url: str,
        token: str,
        aes_key: str,
        corp_id: str,
        agent_id: int,
        http: httpx.Client | None = None,
    ) -> None:
        self.callback_url = callback_url
        self.token = token
        self.corp_id = corp_id
        self.agent_id = agent_id
        self._crypto = WeChatCrypto(token, aes_key, corp_id)
        self._http = http or httpx.Client(timeout=DEFAULT_TIMEOUT_SECONDS)
        # MsgIds are 64-bit: start each device at a random point below 2**63 and count up,
        # so ids are unique within a device and unlikely to meet another device's.
        self._next_msg_id = secrets.randbits(62) + (1 << 61)

    def new_msg_id(self) -> int:
        msg_id = self._next_msg_id
        self._next_msg_id += 1
        return msg_id

    # Messages

    def send_text(
        self, user: str, text: str, *, msg_id: int | None = None, create_time: int | None = None
    ) -> httpx.Response:
        return self._send_message(user, "text", {"Content": text}, msg_id, create_time)

    def send_image(
        self, user: str, pic_url: str, media_id: str, *, msg_id: int | None = None, create_time: int | None = None
    ) -> httpx.Response:
        return self._send_message(user, "image", {"PicUrl": pic_url, "MediaId": media_id}, msg_id, create_time)

    def send_voice(
        self,
        user: str,
        media_id: str,
        *,
        voice_format: str = "amr",
        msg_id: int | None = None,
        create_time: int | None = None,
    ) -> httpx.Response:
        """Post a voice message; WeCom sends AMR audio and no transcript."""
        return self._send_message(user, "voice", {"MediaId": media_id, "Format": voice_format}, msg_id, create_time)

    def send_video(
        self,
        user: str,
        media_id: str,
        thumb_media_id: str,
        *,
        msg_id: int | None = None,
        create_time: int | None = None,
    ) -> httpx.Response:
        fields = {"MediaId": media_id, "ThumbMediaId": thumb_media_id}
        return self._send_message(user, "video", fields, msg_id, create_time)

    def send_location(
        self,
        user: str,
        lat: float,
        lng: float,
        label: str,
        *,
        scale: int = 15,
        msg_id: int | None = None,
        create_time: int | None = None,
    ) -> httpx.Response:
        """Post a location: WeCom puts latitude in Location_X and longitude in Location_Y."""
        fields = {"Location_X": lat, "Location_Y": lng, "Scale": scale, "Label": label}
        return self._send_message(user, "location", fields, msg_id, create_time)

    def send_link(
        self,
        user: str,
        title: str,
        description: str,
        url: str,
        pic_url: str = "",
        *,
        msg_id: int | None = None,
        create_time: int | None = None,
    ) -> httpx.Response:
        fields = {"Title": title, "Description": description, "Url": url, "PicUrl": pic_url}
        return self._send_message(user, "link", fields, msg_id, create_time)

    def send_event(self, user: str, event: str, *, create_time: int | None = None, **fields: Any) -> httpx.Response:
        """Post an event such as `enter_agent`, `click` (EventKey=...) or `template_card_event`.

        Extra keyword arguments become XML elements in order, for example `EventKey="approve"`,
        `TaskId="quote-17"`. Events carry no MsgId.
        """
        plain = build_xml(
            {
                "ToUserName": self.corp_id,
                "FromUserName": user,
                "CreateTime": create_time if create_time is not None else int(time.time()),
                "MsgType": "event",
                "Event": event,
                "AgentID": self.agent_id,
                **fields,
            }
        )
        return self.post_raw(plain)

    def send_card_click(
        self,
        user: str,
        task_id: str,
        event_key: str,
        response_code: str,
        *,
        card_type: str = "button_interaction",
        selected_items: list[tuple[str, list[str]]] | None = None,
        create_time: int | None = None,
    ) -> httpx.Response:
        """Post a `template_card_event`: a member tapped button `event_key` on card `task_id`.

        `selected_items` lists (QuestionKey, OptionIds) pairs for vote and multiple-choice
        cards. A button card's click carries an empty `SelectedItems` element.
        """
        items = "".join(
            "<SelectedItem>"
            f"<QuestionKey>{cdata(question)}</QuestionKey>"
            "<OptionIds>" + "".join(f"<OptionId>{cdata(option)}</OptionId>" for option in options) + "</OptionIds>"
            "</SelectedItem>"
            for question, options in selected_items or []
        )
        return self.send_event(
            user,
            "template_card_event",
            create_time=create_time,
            EventKey=event_key,
            TaskId=task_id,
            CardType=card_type,
            ResponseCode=response_code,
            SelectedItems=RawXml(items),
        )

    def _send_message(
        self, user: str, msg_type: str, fields: dict[str, Any], msg_id: int | None, create_time: int | None
    ) -> httpx.Response:
        plain = build_xml(
            {
                "ToUserName": self.corp_id,
                "FromUserName": user,
                "CreateTime": create_time if create_time is not None else int(time.time()),
                "MsgType": msg_type,
                **fields,
                "MsgId": msg_id if msg_id is not None else self.new_msg_id(),
                "AgentID": self.agent_id,
            }
        )
        return self.post_raw(plain)

    # Raw posts and the URL check

    def encrypt(self, plain_xml: str, timestamp: str, nonce: str) -> tuple[str, str]:
        """Encrypt plain XML as WeCom does; return (envelope XML, msg_signature)."""
        reply = self._crypto.encrypt_message(plain_xml, nonce, timestamp)
        encrypted = ElementTree.fromstring(reply).findtext("Encrypt") or ""
        signature = sign(self.token, timestamp, nonce, encrypted)
        envelope = build_xml({"ToUserName": self.corp_id, "AgentID": str(self.agent_id), "Encrypt": encrypted})
        return envelope, signature

    def post_raw(
        self,
        xml_body: str,
        *,
        signature: str | None = None,
        timestamp: str | None = None,
        nonce: str | None = None,
        encrypt: bool = True,
    ) -> httpx.Response:
        """POST a callback built from `xml_body`, for tests of good and bad input.

        With `encrypt`, `xml_body` is the plain message and is encrypted into WeCom's envelope.
        Without it, `xml_body` is sent as it is; the default signature then covers its
        `Encrypt` element, or an empty string when there is none. A given `signature`
        replaces the computed one in either case.
        """
        timestamp = timestamp if timestamp is not None else str(int(time.time()))
        nonce = nonce if nonce is not None else str(secrets.randbelow(10**10))

        if encrypt:
            body, computed = self.encrypt(xml_body, timestamp, nonce)
        else:
            body = xml_body
            computed = sign(self.token, timestamp, nonce, _find_encrypt(xml_body))

        params = {"msg_signature": signature or computed, "timestamp": timestamp, "nonce": nonce}
        return self._http.post(
            self.callback_url,
            params=params,
            content=body.encode("utf-8"),
            headers={"Content-Type": "text/xml; charset=utf-8"},
        )

    def verify_url(self, echostr_plain: str, *, timestamp: str | None = None, nonce: str | None = None) -> httpx.Response:
        """Send WeCom's URL check: GET with an encrypted, signed `echostr` the bot must decrypt."""
        timestamp = timestamp if timestamp is not None else str(int(time.time()))
        nonce = nonce if nonce is not None else str(secrets.randbelow(10**10))
        echostr = PrpCrypto(self._crypto.key).encrypt(echostr_plain, self.corp_id).decode("ascii")
        params = {
            "msg_signature": sign(self.token, timestamp, nonce, echostr),
            "timestamp": timestamp,
            "nonce": nonce,
            "echostr": echostr,
        }
        return self._http.get(self.callback_url, params=params)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> WeComDevice:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _find_encrypt(xml_body: str) -> str:
    try:
        return ElementTree.fromstring(xml_body).findtext("Encrypt") or ""
    except ElementTree.ParseError:
        return ""
