"""The callback protocol over loopback HTTP: verification, rejection of bad input, dedupe."""

import httpx
import pytest
from sqlalchemy import func, select

from bot.app import create_app
from bot.emulator.device import WeComDevice, build_xml
from bot.emulator.server import start_app_in_thread
from models.activity import Activity, Attachment
from models.messages import InboundMessage
from tests.conftest import make_settings

# WeCom's published sample for the URL check.
VECTOR = {
    "token": "QDG6eK",
    "aes_key": "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
    "corp_id": "wx5823bf96d3bd56c7",
    "msg_signature": "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3",
    "timestamp": "1409659589",
    "nonce": "263014780",
    "echostr": "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==",
}


def _count(db, model) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def vector_server(db, redis_prefix):
    settings = make_settings(
        db.url, redis_prefix, wecom_token=VECTOR["token"], wecom_aes_key=VECTOR["aes_key"],
        wecom_corp_id=VECTOR["corp_id"],
    )
    server = start_app_in_thread(create_app(settings, run_workers=False))
    yield server
    server.stop()


def test_url_verification_official_vector(vector_server):
    params = {k: VECTOR[k] for k in ("msg_signature", "timestamp", "nonce", "echostr")}
    response = httpx.get(f"{vector_server.url}/wecom/callback", params=params)
    assert response.status_code == 200
    assert response.text == "1616140317555161061"


def test_url_verification_bad_signature(vector_server):
    params = {k: VECTOR[k] for k in ("timestamp", "nonce", "echostr")} | {"msg_signature": "0" * 40}
    response = httpx.get(f"{vector_server.url}/wecom/callback", params=params)
    assert response.status_code == 403


def test_url_verification_through_device(live_bot):
    response = live_bot.device.verify_url("hello-zhongshu")
    assert response.status_code == 200
    assert response.text == "hello-zhongshu"


def test_bad_signature_rejected_nothing_stored(live_bot):
    plain = build_xml({"ToUserName": "x", "FromUserName": "zhangwei", "CreateTime": 1, "MsgType": "text",
                       "Content": "今天拜访恒达", "MsgId": 1, "AgentID": 1})
    response = live_bot.device.post_raw(plain, signature="f" * 40)
    assert response.status_code == 403
    assert _count(live_bot.db, InboundMessage) == 0


def test_wrong_corp_id_rejected(live_bot):
    settings = live_bot.settings
    stranger = WeComDevice(live_bot.device.callback_url, settings.wecom_token, settings.wecom_aes_key,
                           "wwsomeothercorp", settings.wecom_agent_id)
    response = stranger.send_text("zhangwei", "今天拜访恒达")
    stranger.close()
    assert response.status_code == 403
    assert _count(live_bot.db, InboundMessage) == 0


@pytest.mark.parametrize(
    "body",
    [
        "not xml at all",
        "<xml><Encrypt>",
        "<root><Encrypt>abc</Encrypt></root>",
        "<xml><ToUserName>x</ToUserName></xml>",
        "<xml><Encrypt>!!!not-base64!!!</Encrypt></xml>",
    ],
)
def test_malformed_body_rejected(live_bot, body):
    response = live_bot.device.post_raw(body, encrypt=False)
    assert response.status_code == 400
    assert _count(live_bot.db, InboundMessage) == 0


def test_doctype_and_entities_rejected(live_bot):
    body = '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY e "x">]><xml><Encrypt>&e;</Encrypt></xml>'
    response = live_bot.device.post_raw(body, encrypt=False)
    assert response.status_code == 400
    encrypted_doctype = '<!DOCTYPE xml [<!ENTITY e "zhangwei">]><xml><FromUserName>&e;</FromUserName><MsgType>text</MsgType></xml>'
    response = live_bot.device.post_raw(encrypted_doctype)
    assert response.status_code == 400
    assert _count(live_bot.db, InboundMessage) == 0


def test_oversized_body_rejected(live_bot):
    response = live_bot.device.post_raw("<xml>" + "a" * (live_bot.settings.max_callback_body_bytes + 1) + "</xml>", encrypt=False)
    assert response.status_code == 413
    assert _count(live_bot.db, InboundMessage) == 0


def test_retried_delivery_stored_once(live_bot):
    first = live_bot.send("zhangwei", "今天拜访恒达王经理,聊了P.O42.5水泥的需求", msg_id=424242)
    again = live_bot.send("zhangwei", "今天拜访恒达王经理,聊了P.O42.5水泥的需求", msg_id=424242)
    assert len(first) == 1
    assert again == []
    assert _count(live_bot.db, InboundMessage) == 1
    assert _count(live_bot.db, Activity) == 1


def test_unknown_sender_gets_polite_reply(live_bot):
    replies = live_bot.send("stranger01", "今天拜访恒达王经理")
    assert replies == ["你好,你还不是销售中枢的用户,这条消息没有记录。请联系销售管理员把你加入系统。"]
    assert _count(live_bot.db, Activity) == 0


def test_image_sent_before_note_joins_it(live_bot):
    before = live_bot.last_message_id("zhangwei")
    live_bot.device.send_image("zhangwei", "http://127.0.0.1/site.jpg", "MEDIA-SITE")
    live_bot.wait_idle()
    [kept] = [m["content"] for m in live_bot.inspector.messages(touser="zhangwei", after=before)]
    assert kept == "📎 已保存照片。你最近12小时没有拜访记录;2小时内发这次拜访的文字记录,照片会自动关联过去。"

    [summary] = live_bot.send("zhangwei", "今天拜访恒达王经理,聊了P.O42.5水泥的需求")
    assert "📎 你刚才发的 1 个附件(照片、位置等)已存到这条记录。" in summary
    with live_bot.db.session() as session:
        attachment = session.scalars(select(Attachment)).one()
        activity = session.scalars(select(Activity)).one()
        assert attachment.activity_id == activity.id

    live_bot.send("zhangwei", "撤销")
    with live_bot.db.session() as session:
        assert session.scalars(select(Activity)).all() == []
        assert session.scalars(select(Attachment)).one().activity_id is None


def test_image_kept_against_latest_activity(live_bot):
    live_bot.send("zhangwei", "今天拜访恒达王经理,聊了P.O42.5水泥的需求")
    after = live_bot.last_message_id("zhangwei")
    response = live_bot.device.send_image("zhangwei", "http://127.0.0.1/photo.jpg", "MEDIA123")
    assert response.status_code == 200
    live_bot.wait_idle()
    replies = [m["content"] for m in live_bot.inspector.messages(touser="zhangwei", after=after)]
    assert len(replies) == 1
    assert "已把照片存到你最近一条拜访记录" in replies[0]
    with live_bot.db.session() as session:
        attachment = session.scalars(select(Attachment)).one()
        activity = session.scalars(select(Activity)).one()
        assert attachment.activity_id == activity.id
        assert attachment.media_id == "MEDIA123"


def test_voice_reply_says_no_transcript(live_bot):
    after = live_bot.last_message_id("zhangwei")
    live_bot.device.send_voice("zhangwei", "VOICE1")
    live_bot.wait_idle()
    replies = [m["content"] for m in live_bot.inspector.messages(touser="zhangwei", after=after)]
    assert len(replies) == 1
    assert "语音不会自动转成文字" in replies[0]
