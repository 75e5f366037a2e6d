"""WeComDevice posts callbacks that an independent WeChatCrypto decrypts field for field."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from xml.etree import ElementTree

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from wechatpy.enterprise import parse_message
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.enterprise.exceptions import InvalidCorpIdException
from wechatpy.exceptions import InvalidSignatureException

from bot.emulator import (
    EmulatorConfig,
    RunningServer,
    WeComDevice,
    start_app_in_thread,
    start_emulator_in_thread,
)
from bot.emulator.device import build_xml, sign
from bot.settings import DEV_AES_KEY, DEV_CORP_ID, DEV_TOKEN

AGENT_ID = 1000002

# WeCom's official sample values for the callback crypto.
VECTOR_TOKEN = "QDG6eK"
VECTOR_AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
VECTOR_CORP_ID = "wx5823bf96d3bd56c7"
VECTOR_SIGNATURE = "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3"
VECTOR_TIMESTAMP = "1409659589"
VECTOR_NONCE = "263014780"
VECTOR_ECHOSTR = "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="
VECTOR_ECHOSTR_PLAIN = "1616140317555161061"


@dataclass
class ReceivedCallback:
    params: dict[str, str]
    body: str
    plain: str | None


@dataclass
class Receiver:
    """A stand-in for the bot's callback: verifies and decrypts with its own WeChatCrypto."""

    crypto: WeChatCrypto
    url: str = ""
    received: list[ReceivedCallback] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/callback")
        def check_url(msg_signature: str, timestamp: str, nonce: str, echostr: str) -> Response:
            try:
                plain = self.crypto.check_signature(msg_signature, timestamp, nonce, echostr)
            except InvalidSignatureException:
                return Response(status_code=403)
            return Response(plain, media_type="text/plain")

        @app.post("/callback")
        async def receive(request: Request, msg_signature: str, timestamp: str, nonce: str) -> Response:
            body = (await request.body()).decode("utf-8")
            params = {"msg_signature": msg_signature, "timestamp": timestamp, "nonce": nonce}
            try:
                plain = self.crypto.decrypt_message(body, msg_signature, timestamp, nonce)
            except InvalidSignatureException:
                self.received.append(ReceivedCallback(params, body, None))
                return Response(status_code=403)
            except (InvalidCorpIdException, ValueError):
                self.received.append(ReceivedCallback(params, body, None))
                return Response(status_code=400)
            self.received.append(ReceivedCallback(params, body, plain))
            return Response(status_code=200)

        return app


def start_receiver(token: str, aes_key: str, corp_id: str) -> tuple[Receiver, RunningServer]:
    receiver = Receiver(WeChatCrypto(token, aes_key, corp_id))
    server = start_app_in_thread(receiver.app())
    receiver.url = server.url + "/callback"
    return receiver, server


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver, server = start_receiver(DEV_TOKEN, DEV_AES_KEY, DEV_CORP_ID)
    yield receiver
    server.stop()


@pytest.fixture
def device(receiver: Receiver) -> Iterator[WeComDevice]:
    with WeComDevice(receiver.url, DEV_TOKEN, DEV_AES_KEY, DEV_CORP_ID, AGENT_ID) as device:
        yield device


def last_plain_fields(receiver: Receiver) -> dict[str, str]:
    plain = receiver.received[-1].plain
    assert plain is not None
    return {child.tag: child.text or "" for child in ElementTree.fromstring(plain)}


# Envelope and text


def test_text_envelope_matches_wecom(device, receiver):
    response = device.send_text("zhangsan", "你好")

    callback = receiver.received[-1]
    envelope = {child.tag: child.text for child in ElementTree.fromstring(callback.body)}
    assert response.status_code == 200
    assert set(envelope) == {"ToUserName", "AgentID", "Encrypt"}
    assert envelope["ToUserName"] == DEV_CORP_ID
    assert envelope["AgentID"] == str(AGENT_ID)
    assert set(callback.params) == {"msg_signature", "timestamp", "nonce"}


def test_text_fields_decrypt(device, receiver):
    device.send_text("zhangsan", "今天拜访了华东建材，王经理要报价", msg_id=7234567890123456789, create_time=1700000000)

    fields = last_plain_fields(receiver)
    message = parse_message(receiver.received[-1].plain)
    assert fields == {
        "ToUserName": DEV_CORP_ID,
        "FromUserName": "zhangsan",
        "CreateTime": "1700000000",
        "MsgType": "text",
        "Content": "今天拜访了华东建材，王经理要报价",
        "MsgId": "7234567890123456789",
        "AgentID": str(AGENT_ID),
    }
    assert message.type == "text"
    assert message.id == 7234567890123456789
    assert message.agent == AGENT_ID
    assert message.source == "zhangsan"


def test_text_with_cdata_terminator_round_trips(device, receiver):
    tricky = "a]]>b <c> & 引号\"'"

    device.send_text("zhangsan", tricky)

    assert parse_message(receiver.received[-1].plain).content == tricky


def test_msg_ids_are_unique_64_bit(device, receiver):
    for _ in range(5):
        device.send_text("zhangsan", "你好")

    ids = [int(parse_message(c.plain).id) for c in receiver.received]
    assert len(set(ids)) == 5
    assert all(0 < msg_id < 2**63 for msg_id in ids)


def test_same_msg_id_can_be_resent(device, receiver):
    device.send_text("zhangsan", "重发", msg_id=42)
    device.send_text("zhangsan", "重发", msg_id=42)

    assert [parse_message(c.plain).id for c in receiver.received] == [42, 42]


def test_fixed_timestamp_and_nonce_are_used(device, receiver):
    device.post_raw(build_xml({"MsgType": "text"}), timestamp="1409659589", nonce="263014780")

    assert receiver.received[-1].params["timestamp"] == "1409659589"
    assert receiver.received[-1].params["nonce"] == "263014780"


# Other message types and events


def test_image_fields(device, receiver):
    device.send_image("zhangsan", "https://example.invalid/p.jpg", "media-123")

    fields = last_plain_fields(receiver)
    message = parse_message(receiver.received[-1].plain)
    assert fields["MsgType"] == "image"
    assert message.image == "https://example.invalid/p.jpg"
    assert message.media_id == "media-123"
    assert message.agent == AGENT_ID


def test_voice_fields(device, receiver):
    device.send_voice("zhangsan", "voice-1")

    message = parse_message(receiver.received[-1].plain)
    assert message.type == "voice"
    assert message.media_id == "voice-1"
    assert message.format == "amr"


def test_video_fields(device, receiver):
    device.send_video("zhangsan", "video-1", "thumb-1")

    message = parse_message(receiver.received[-1].plain)
    assert message.type == "video"
    assert message.media_id == "video-1"
    assert message.thumb_media_id == "thumb-1"


def test_location_fields(device, receiver):
    device.send_location("zhangsan", 31.2304, 121.4737, "上海市黄浦区")

    fields = last_plain_fields(receiver)
    message = parse_message(receiver.received[-1].plain)
    assert message.type == "location"
    assert float(fields["Location_X"]) == 31.2304
    assert float(fields["Location_Y"]) == 121.4737
    assert message.label == "上海市黄浦区"
    assert fields["Scale"] == "15"


def test_link_fields(device, receiver):
    device.send_link("zhangsan", "产品目录", "2025 版", "https://example.invalid/catalog")

    message = parse_message(receiver.received[-1].plain)
    assert message.type == "link"
    assert message.title == "产品目录"
    assert message.description == "2025 版"
    assert message.url == "https://example.invalid/catalog"


def test_event_fields(device, receiver):
    device.send_event(
        "zhangsan", "template_card_event", create_time=1700000000, EventKey="approve", TaskId="quote-17"
    )

    fields = last_plain_fields(receiver)
    assert fields == {
        "ToUserName": DEV_CORP_ID,
        "FromUserName": "zhangsan",
        "CreateTime": "1700000000",
        "MsgType": "event",
        "Event": "template_card_event",
        "AgentID": str(AGENT_ID),
        "EventKey": "approve",
        "TaskId": "quote-17",
    }


# Bad input


def test_wrong_signature_is_rejected(device, receiver):
    response = device.post_raw(build_xml({"MsgType": "text"}), signature="0" * 40)

    assert response.status_code == 403
    assert receiver.received[-1].params["msg_signature"] == "0" * 40


@pytest.mark.parametrize(
    ("token", "corp_id", "status_code"),
    [("wrong-token", DEV_CORP_ID, 403), (DEV_TOKEN, "ww-other-corp", 400)],
)
def test_device_with_wrong_credentials_is_rejected(receiver, token, corp_id, status_code):
    with WeComDevice(receiver.url, token, DEV_AES_KEY, corp_id, AGENT_ID) as device:
        response = device.send_text("zhangsan", "你好")

    assert response.status_code == status_code
    assert receiver.received[-1].plain is None


def test_unencrypted_body_is_sent_as_is(device, receiver):
    envelope = "<xml><ToUserName>x</ToUserName><Encrypt>bm90LXJlYWxseQ==</Encrypt></xml>"

    response = device.post_raw(envelope, encrypt=False, timestamp="1", nonce="2")

    callback = receiver.received[-1]
    assert response.status_code == 400
    assert callback.body == envelope
    assert callback.params["msg_signature"] == sign(DEV_TOKEN, "1", "2", "bm90LXJlYWxseQ==")


# URL check and the official test vector


def test_verify_url_round_trip(device):
    response = device.verify_url("6789012345")

    assert response.status_code == 200
    assert response.text == "6789012345"


def test_official_vector_signature():
    assert sign(VECTOR_TOKEN, VECTOR_TIMESTAMP, VECTOR_NONCE, VECTOR_ECHOSTR) == VECTOR_SIGNATURE


def test_official_vector_decrypts():
    crypto = WeChatCrypto(VECTOR_TOKEN, VECTOR_AES_KEY, VECTOR_CORP_ID)

    plain = crypto.check_signature(VECTOR_SIGNATURE, VECTOR_TIMESTAMP, VECTOR_NONCE, VECTOR_ECHOSTR)

    assert plain == VECTOR_ECHOSTR_PLAIN


def test_official_vector_credentials_round_trip():
    receiver, server = start_receiver(VECTOR_TOKEN, VECTOR_AES_KEY, VECTOR_CORP_ID)
    try:
        with WeComDevice(receiver.url, VECTOR_TOKEN, VECTOR_AES_KEY, VECTOR_CORP_ID, 1) as device:
            check = device.verify_url(VECTOR_ECHOSTR_PLAIN, timestamp=VECTOR_TIMESTAMP, nonce=VECTOR_NONCE)
            device.send_text("zhangsan", "hello")
    finally:
        server.stop()

    assert check.text == VECTOR_ECHOSTR_PLAIN
    assert parse_message(receiver.received[-1].plain).content == "hello"


# The emulator posting through a device


def test_emulator_posts_member_text_to_callback(receiver):
    config = EmulatorConfig(callback_url=receiver.url)
    with start_emulator_in_thread(config) as emulator:
        response = httpx.post(emulator.url + "/emulator/api/device/text", json={"user": "lisi", "text": "查一下我的任务"})

    message = parse_message(receiver.received[-1].plain)
    assert response.json() == {"status_code": 200}
    assert message.source == "lisi"
    assert message.content == "查一下我的任务"
    assert message.agent == config.agent_id


def test_card_click_fields(device, receiver):
    device.send_card_click("zhangsan", "quote-17", "approve", "code-1", create_time=1700000000)

    fields = last_plain_fields(receiver)
    assert fields == {
        "ToUserName": DEV_CORP_ID,
        "FromUserName": "zhangsan",
        "CreateTime": "1700000000",
        "MsgType": "event",
        "Event": "template_card_event",
        "AgentID": str(AGENT_ID),
        "EventKey": "approve",
        "TaskId": "quote-17",
        "CardType": "button_interaction",
        "ResponseCode": "code-1",
        "SelectedItems": "",
    }


def test_card_click_selected_items_nest(device, receiver):
    device.send_card_click(
        "zhangsan", "vote-3", "submit", "code-2", card_type="vote_interaction",
        selected_items=[("q1", ["a", "b"]), ("q2", ["<c>"])],
    )

    root = ElementTree.fromstring(receiver.received[-1].plain)
    items = root.find("SelectedItems")
    assert root.findtext("CardType") == "vote_interaction"
    assert [item.findtext("QuestionKey") for item in items] == ["q1", "q2"]
    assert [option.text for option in items[0].find("OptionIds")] == ["a", "b"]
    assert items[1].find("OptionIds")[0].text == "<c>"
