"""App group chats, group robots and injected faults on every emulator path."""

import base64
import hashlib
import itertools
from collections.abc import Iterator

import httpx
import pytest

from bot.emulator import (
    EmulatorConfig,
    ManualClock,
    RunningServer,
    start_emulator_in_thread,
)
from bot.emulator.media import PNG_SIGNATURE
from bot.emulator.state import EmulatorState
from bot.settings import DEV_CORP_ID, DEV_SECRET
from tests.unit.test_emulator import AGENT_ID, get_token
from tests.unit.test_emulator_cards import (  # noqa: F401
    http_fixture,
    inspector_fixture,
    token_fixture,
)

MEGABYTE = 1024 * 1024
FAKE_PNG = PNG_SIGNATURE + bytes(range(120))
MEMBERS = frozenset({"zhangwei", "lina", "zhaomin", "wangqiang"})
ROBOT_KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def emulator(clock: ManualClock) -> Iterator[RunningServer]:
    server = start_emulator_in_thread(EmulatorConfig(known_users=MEMBERS), clock=clock)
    yield server
    server.stop()


def create_chat(http: httpx.Client, token: str, **fields) -> dict:
    payload = {"name": "华东区销售群", "owner": "zhangwei", "userlist": ["zhangwei", "lina", "zhaomin"]}
    payload.update(fields)
    return http.post("/cgi-bin/appchat/create", params={"access_token": token}, json=payload).json()


def send_to_chat(http: httpx.Client, token: str, chatid: str, msgtype: str = "text", body: dict | None = None) -> dict:
    payload = {"chatid": chatid, "msgtype": msgtype, msgtype: body if body is not None else {"content": "本周回款通报"}}
    return http.post("/cgi-bin/appchat/send", params={"access_token": token}, json=payload).json()


def robot_send(http: httpx.Client, payload: dict, key: str | None = ROBOT_KEY) -> dict:
    params = {"key": key} if key is not None else {}
    return http.post("/cgi-bin/webhook/send", params=params, json=payload).json()


def robot_image(data: bytes, md5: str | None = None) -> dict:
    encoded = base64.b64encode(data).decode("ascii")
    return {"msgtype": "image", "image": {"base64": encoded, "md5": md5 or hashlib.md5(data).hexdigest()}}


# appchat/create


def test_create_chat_returns_chatid(http, token, inspector):
    body = create_chat(http, token)

    chats = inspector.chats()["appchats"]
    assert body["errcode"] == 0
    assert body["chatid"]
    assert [chat["chatid"] for chat in chats] == [body["chatid"]]
    assert chats[0]["name"] == "华东区销售群"
    assert chats[0]["owner"] == "zhangwei"
    assert chats[0]["userlist"] == ["zhangwei", "lina", "zhaomin"]


def test_create_chat_keeps_given_chatid(http, token):
    assert create_chat(http, token, chatid="sales01")["chatid"] == "sales01"
    assert create_chat(http, token, chatid="sales01")["errcode"] == 86215


@pytest.mark.parametrize(
    ("fields", "errcode"),
    [
        ({"chatid": "sales-01"}, 86001),
        ({"chatid": "x" * 33}, 86001),
        ({"userlist": ["zhangwei"]}, 86006),
        ({"userlist": ["zhangwei", "zhangwei"]}, 86006),
        ({"userlist": []}, 86204),
        ({"userlist": "zhangwei|lina"}, 86204),
        ({"userlist": ["zhangwei", "ghost"]}, 86007),
        ({"owner": "wangqiang"}, 86207),
    ],
)
def test_create_chat_rules(http, token, fields, errcode):
    assert create_chat(http, token, **fields)["errcode"] == errcode


def test_create_chat_truncates_long_name(http, token, inspector):
    create_chat(http, token, name="群" * 60)

    assert inspector.chats()["appchats"][0]["name"] == "群" * 50


def test_create_chat_needs_a_token(http):
    body = http.post("/cgi-bin/appchat/create", json={"userlist": ["zhangwei", "lina"]}).json()

    assert body["errcode"] == 41001


# appchat/send


def test_chat_text_is_recorded(http, token, inspector, clock):
    chatid = create_chat(http, token)["chatid"]

    body = send_to_chat(http, token, chatid)

    messages = inspector.chat_messages(chatid)
    assert body == {"errcode": 0, "errmsg": "ok"}
    assert [m["content"] for m in messages] == ["本周回款通报"]
    assert messages[0]["msgtype"] == "text"
    assert messages[0]["timestamp"] == clock()
    assert inspector.chats()["appchats"][0]["message_count"] == 1
    assert inspector.messages() == []


def test_chat_rejects_template_card(http, token, inspector):
    chatid = create_chat(http, token)["chatid"]
    card = {"card_type": "button_interaction", "task_id": "t1", "main_title": {"title": "审批"},
            "button_list": [{"text": "同意", "key": "ok"}]}

    body = send_to_chat(http, token, chatid, "template_card", card)

    assert body["errcode"] == 40008
    assert inspector.chat_messages(chatid) == []


def test_chat_image_from_media(http, token, inspector):
    chatid = create_chat(http, token)["chatid"]
    files = {"media": ("funnel.png", FAKE_PNG, "image/png")}
    media_id = http.post("/cgi-bin/media/upload", params={"access_token": token, "type": "image"}, files=files).json()["media_id"]

    assert send_to_chat(http, token, chatid, "image", {"media_id": media_id})["errcode"] == 0
    assert send_to_chat(http, token, chatid, "image", {"media_id": "missing"})["errcode"] == 40007
    assert inspector.chat_messages(chatid)[0]["media"]["media_id"] == media_id


@pytest.mark.parametrize(
    ("chatid", "msgtype", "body", "errcode"),
    [
        ("nochat", "text", {"content": "x"}, 86003),
        ("", "text", {"content": "x"}, 86201),
        (None, "text", {"content": "x"}, 86201),
        ("CHAT", "text", {"content": ""}, 44004),
        ("CHAT", "text", {"content": "字" * 683}, 45002),
        ("CHAT", "markdown", {"content": "**本周排行**"}, 0),
        ("CHAT", "hologram", {}, 40008),
    ],
)
def test_chat_send_rules(http, token, chatid, msgtype, body, errcode):
    real_chatid = create_chat(http, token)["chatid"]
    target = real_chatid if chatid == "CHAT" else chatid

    assert send_to_chat(http, token, target, msgtype, body)["errcode"] == errcode


def test_chat_takes_200_messages_a_minute(clock):
    state = EmulatorState(EmulatorConfig(), clock)
    token = state.get_token(DEV_CORP_ID, DEV_SECRET).body["access_token"]
    chatid = state.create_appchat(token, {"userlist": ["zhangwei", "lina"]}).body["chatid"]
    payload = {"chatid": chatid, "msgtype": "text", "text": {"content": "通报"}}

    codes = [state.send_appchat(token, payload).body["errcode"] for _ in range(201)]
    clock.advance(60)
    after_a_minute = state.send_appchat(token, payload).body["errcode"]

    assert codes[:200] == [0] * 200
    assert codes[200] == 45009
    assert after_a_minute == 0
    assert len(state.group_messages("appchat", chatid)) == 201


def test_chats_survive_reset(http, token, inspector):
    chatid = create_chat(http, token)["chatid"]
    send_to_chat(http, token, chatid)

    inspector.reset()

    assert inspector.chat_messages(chatid) == []
    assert send_to_chat(http, token, chatid)["errcode"] == 0


# Group robot: webhook/send


def test_robot_text_and_markdown_are_recorded(http, inspector):
    assert robot_send(http, {"msgtype": "text", "text": {"content": "今日回款 3 笔"}})["errcode"] == 0
    assert robot_send(http, {"msgtype": "markdown", "markdown": {"content": "## 排行榜"}})["errcode"] == 0

    messages = inspector.robot_messages(ROBOT_KEY)
    assert [(m["msgtype"], m["content"]) for m in messages] == [("text", "今日回款 3 笔"), ("markdown", "## 排行榜")]
    assert inspector.chats()["robots"] == [{"key": ROBOT_KEY, "message_count": 2}]


@pytest.mark.parametrize(
    ("msgtype", "content", "errcode"),
    [
        ("text", "字" * 682 + "ab", 0),
        ("text", "字" * 682 + "abc", 45002),
        ("markdown", "字" * 1365 + "a", 0),
        ("markdown", "字" * 1365 + "ab", 45002),
        ("text", "", 44004),
    ],
)
def test_robot_text_limits(http, msgtype, content, errcode):
    assert robot_send(http, {"msgtype": msgtype, msgtype: {"content": content}})["errcode"] == errcode


def test_robot_image_is_checked_and_stored(http, inspector):
    body = robot_send(http, robot_image(FAKE_PNG))

    message = inspector.robot_messages(ROBOT_KEY)[0]
    assert body["errcode"] == 0
    assert message["content"] == {"md5": hashlib.md5(FAKE_PNG).hexdigest(), "size": len(FAKE_PNG)}
    assert inspector.media(message["media"]["media_id"]) == FAKE_PNG


def test_robot_image_md5_must_match_raw_bytes(http, inspector):
    md5_of_base64 = hashlib.md5(base64.b64encode(FAKE_PNG)).hexdigest()

    body = robot_send(http, robot_image(FAKE_PNG, md5=md5_of_base64))

    assert body["errcode"] == 40058
    assert "md5" in body["errmsg"]
    assert inspector.robot_messages(ROBOT_KEY) == []


def test_robot_image_md5_is_case_insensitive(http):
    assert robot_send(http, robot_image(FAKE_PNG, md5=hashlib.md5(FAKE_PNG).hexdigest().upper()))["errcode"] == 0


@pytest.mark.parametrize(
    ("image", "errcode"),
    [
        ({"base64": "not base64!", "md5": "0" * 32}, 40058),
        ({"md5": "0" * 32}, 40058),
        (robot_image(b"GIF89a" + bytes(50))["image"], 40004),
        (robot_image(PNG_SIGNATURE + bytes(2 * MEGABYTE))["image"], 40009),
        (robot_image(PNG_SIGNATURE + bytes(2 * MEGABYTE - len(PNG_SIGNATURE)))["image"], 0),
    ],
)
def test_robot_image_rules(http, image, errcode):
    assert robot_send(http, {"msgtype": "image", "image": image})["errcode"] == errcode


def test_robot_file_via_upload_media(http, inspector):
    files = {"media": ("周报.xlsx", b"PK\x03\x04 weekly report", "application/octet-stream")}
    uploaded = http.post("/cgi-bin/webhook/upload_media", params={"key": ROBOT_KEY, "type": "file"}, files=files).json()

    body = robot_send(http, {"msgtype": "file", "file": {"media_id": uploaded["media_id"]}})

    assert uploaded["errcode"] == 0
    assert uploaded["type"] == "file"
    assert body["errcode"] == 0
    assert inspector.robot_messages(ROBOT_KEY)[0]["media"]["filename"] == "周报.xlsx"
    assert robot_send(http, {"msgtype": "file", "file": {"media_id": "missing"}})["errcode"] == 40007


def test_robot_upload_media_takes_files_and_voice_only(http):
    files = {"media": ("a.png", FAKE_PNG, "image/png")}

    body = http.post("/cgi-bin/webhook/upload_media", params={"key": ROBOT_KEY, "type": "image"}, files=files).json()

    assert body["errcode"] == 40005


def test_robot_rejects_unknown_msgtype(http):
    assert robot_send(http, {"msgtype": "template_card", "template_card": {}})["errcode"] == 40008


def test_robot_takes_20_messages_a_minute(http, inspector, clock):
    text = {"msgtype": "text", "text": {"content": "提醒"}}

    codes = [robot_send(http, text)["errcode"] for _ in range(21)]
    other_robot = robot_send(http, text, key="another-robot")["errcode"]
    clock.advance(60)
    after_a_minute = robot_send(http, text)["errcode"]

    assert codes[:20] == [0] * 20
    assert codes[20] == 45009
    assert other_robot == 0
    assert after_a_minute == 0
    assert len(inspector.robot_messages(ROBOT_KEY)) == 21


def test_robot_without_key_is_93000(http):
    assert robot_send(http, {"msgtype": "text", "text": {"content": "x"}}, key=None)["errcode"] == 93000


def test_robot_keys_restrict_webhooks(clock):
    config = EmulatorConfig(robot_keys=frozenset({"known-robot"}))
    with start_emulator_in_thread(config, clock=clock) as server, httpx.Client(base_url=server.url) as http:
        known = robot_send(http, {"msgtype": "text", "text": {"content": "x"}}, key="known-robot")
        unknown = robot_send(http, {"msgtype": "text", "text": {"content": "x"}}, key="stranger")

    assert known["errcode"] == 0
    assert unknown["errcode"] == 93000


# Faults on every path


TASK_NUMBERS = itertools.count(1)


def call_path(http: httpx.Client, token: str, path: str) -> dict:
    """Make a valid request to `path` and return the JSON body."""
    if path == "gettoken":
        return get_token(http)
    if path == "message/send":
        payload = {"touser": "zhangwei", "msgtype": "text", "agentid": AGENT_ID, "text": {"content": "你好"}}
        return http.post("/cgi-bin/message/send", params={"access_token": token}, json=payload).json()
    if path == "message/update_template_card":
        card = {"card_type": "button_interaction", "task_id": f"fault-{next(TASK_NUMBERS)}", "main_title": {"title": "审批"},
                "button_list": [{"text": "同意", "key": "ok"}]}
        payload = {"touser": "zhangwei", "msgtype": "template_card", "agentid": AGENT_ID, "template_card": card}
        code = http.post("/cgi-bin/message/send", params={"access_token": token}, json=payload).json().get("response_code")
        update = {"userids": ["zhangwei"], "agentid": AGENT_ID, "response_code": code, "button": {"replace_name": "已同意"}}
        return http.post("/cgi-bin/message/update_template_card", params={"access_token": token}, json=update).json()
    if path == "media/upload":
        files = {"media": ("a.png", FAKE_PNG, "image/png")}
        return http.post("/cgi-bin/media/upload", params={"access_token": token, "type": "image"}, files=files).json()
    if path == "appchat/create":
        return create_chat(http, token)
    if path == "appchat/send":
        chatid = create_chat(http, token, chatid="faultchat").get("chatid", "faultchat")
        return send_to_chat(http, token, chatid)
    if path == "webhook/send":
        return robot_send(http, {"msgtype": "text", "text": {"content": "x"}})
    files = {"media": ("a.txt", b"hello world", "text/plain")}
    return http.post("/cgi-bin/webhook/upload_media", params={"key": ROBOT_KEY, "type": "file"}, files=files).json()


FAULT_PATHS = [
    "gettoken",
    "message/send",
    "message/update_template_card",
    "media/upload",
    "appchat/create",
    "appchat/send",
    "webhook/send",
    "webhook/upload_media",
]


@pytest.mark.parametrize("path", FAULT_PATHS)
@pytest.mark.parametrize("errcode", [-1, 45009, 45033, 40014])
def test_errcode_fault_on_every_path(http, token, inspector, path, errcode):
    inspector.inject_fault(path, errcode=errcode)

    failed = call_path(http, token, path)
    succeeded = call_path(http, token, path)

    assert failed["errcode"] == errcode
    assert succeeded["errcode"] == 0
    counter = path.replace("/", "_") + "_calls"
    assert inspector.stats()[counter] >= 2


@pytest.mark.parametrize("path", FAULT_PATHS)
def test_delay_fault_on_every_path(http, token, inspector, path):
    inspector.inject_fault(path, delay_seconds=1.0)

    method = "GET" if path == "gettoken" else "POST"
    params = {"access_token": token, "key": ROBOT_KEY}

    with pytest.raises(httpx.ReadTimeout):
        http.request(method, f"/cgi-bin/{path}", params=params, json={}, timeout=0.2)
