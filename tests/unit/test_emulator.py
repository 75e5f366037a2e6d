"""The emulator's WeCom rules, exercised over real HTTP on loopback with a manual clock."""

from collections.abc import Iterator

import httpx
import pytest

from bot.emulator import (
    EmulatorConfig,
    EmulatorInspector,
    ManualClock,
    start_emulator_in_thread,
)
from bot.emulator.state import EmulatorState
from bot.settings import DEV_CORP_ID, DEV_SECRET

AGENT_ID = EmulatorConfig().agent_id


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def emulator_url(clock: ManualClock) -> Iterator[str]:
    server = start_emulator_in_thread(EmulatorConfig(known_users=None), clock=clock)
    yield server.url
    server.stop()


@pytest.fixture
def http(emulator_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator_url, timeout=5.0) as client:
        yield client


@pytest.fixture
def inspector(emulator_url: str) -> Iterator[EmulatorInspector]:
    inspector = EmulatorInspector(emulator_url)
    yield inspector
    inspector.close()


def get_token(http: httpx.Client, corpid: str | None = DEV_CORP_ID, corpsecret: str | None = DEV_SECRET) -> dict:
    params = {key: value for key, value in {"corpid": corpid, "corpsecret": corpsecret}.items() if value is not None}
    return http.get("/cgi-bin/gettoken", params=params).json()


def send(http: httpx.Client, token: str | None, payload: dict | None = None, **fields) -> dict:
    body = payload if payload is not None else text_payload(**fields)
    params = {"access_token": token} if token is not None else {}
    return http.post("/cgi-bin/message/send", params=params, json=body).json()


def text_payload(touser: str = "zhangsan", content: str = "你好", agentid: int = AGENT_ID) -> dict:
    return {"touser": touser, "msgtype": "text", "agentid": agentid, "text": {"content": content}}


# gettoken


def test_gettoken_returns_documented_shape(http):
    body = get_token(http)

    assert body["errcode"] == 0
    assert body["errmsg"] == "ok"
    assert body["expires_in"] == 7200
    assert isinstance(body["access_token"], str)
    assert body["access_token"]


@pytest.mark.parametrize(
    ("corpid", "corpsecret", "errcode"),
    [
        ("wrongcorp", DEV_SECRET, 40013),
        (DEV_CORP_ID, "wrong-secret", 40001),
        (DEV_CORP_ID, None, 41004),
        (DEV_CORP_ID, "", 41004),
        (None, DEV_SECRET, 41002),
    ],
)
def test_gettoken_rejects_bad_credentials(http, corpid, corpsecret, errcode):
    body = get_token(http, corpid, corpsecret)

    assert body["errcode"] == errcode
    assert "access_token" not in body


def test_gettoken_returns_same_token_until_expiry(http, clock):
    first = get_token(http)
    clock.advance(7000)
    second = get_token(http)
    clock.advance(200)
    third = get_token(http)

    assert second["access_token"] == first["access_token"]
    assert second["expires_in"] == 200
    assert third["access_token"] != first["access_token"]
    assert third["expires_in"] == 7200


def test_gettoken_calls_are_counted(http, inspector):
    get_token(http)
    get_token(http, corpsecret="wrong")

    assert inspector.stats()["gettoken_calls"] == 2


# message/send: token and request checks


def test_send_without_token_is_41001(http):
    assert send(http, None)["errcode"] == 41001


def test_send_with_unknown_token_is_40014(http):
    assert send(http, "not-a-token")["errcode"] == 40014


def test_token_expires_after_7200_seconds(http, clock):
    token = get_token(http)["access_token"]

    clock.advance(7199)
    assert send(http, token)["errcode"] == 0
    clock.advance(1)
    assert send(http, token)["errcode"] == 42001


def test_send_with_wrong_agentid_is_40056(http):
    token = get_token(http)["access_token"]

    assert send(http, token, agentid=AGENT_ID + 1)["errcode"] == 40056


def test_send_without_agentid_is_41011(http):
    token = get_token(http)["access_token"]
    payload = text_payload()
    del payload["agentid"]

    assert send(http, token, payload)["errcode"] == 41011


def test_send_with_empty_content_is_44004(http, inspector):
    token = get_token(http)["access_token"]

    assert send(http, token, content="")["errcode"] == 44004
    assert inspector.messages() == []


def test_send_rejects_content_over_2048_bytes(http, inspector):
    token = get_token(http)["access_token"]
    exactly_limit = "字" * 682 + "ab"  # 682 * 3 + 2 = 2048 bytes
    over_limit = exactly_limit + "c"

    assert send(http, token, content=exactly_limit)["errcode"] == 0
    assert send(http, token, content=over_limit)["errcode"] == 45002
    assert [m["content"] for m in inspector.messages()] == [exactly_limit]


def test_send_with_unknown_msgtype_is_40008(http):
    token = get_token(http)["access_token"]
    payload = {"touser": "zhangsan", "msgtype": "hologram", "agentid": AGENT_ID, "hologram": {}}

    assert send(http, token, payload)["errcode"] == 40008


def test_send_with_invalid_json_is_47001(http):
    token = get_token(http)["access_token"]
    response = http.post("/cgi-bin/message/send", params={"access_token": token}, content=b"{not json")

    assert response.json()["errcode"] == 47001


def test_send_records_delivered_message(http, inspector, clock):
    token = get_token(http)["access_token"]

    body = send(http, token, content="明天拜访华东建材")
    messages = inspector.messages()

    assert body["errcode"] == 0
    assert body["msgid"]
    assert len(messages) == 1
    assert messages[0]["msgid"] == body["msgid"]
    assert messages[0]["touser"] == "zhangsan"
    assert messages[0]["msgtype"] == "text"
    assert messages[0]["content"] == "明天拜访华东建材"
    assert messages[0]["agentid"] == AGENT_ID
    assert messages[0]["timestamp"] == clock()


def test_messages_json_keeps_chinese_unescaped(http):
    token = get_token(http)["access_token"]
    send(http, token, content="报价单")

    raw = http.get("/emulator/api/messages").text

    assert "报价单" in raw


# Member directory


def test_unknown_users_are_reported_and_not_delivered(clock):
    config = EmulatorConfig(known_users=frozenset({"zhangsan", "lisi"}))
    with start_emulator_in_thread(config, clock=clock) as server, httpx.Client(base_url=server.url) as http:
        token = get_token(http)["access_token"]
        partial = send(http, token, touser="zhangsan|Ghost|lisi")
        all_invalid = send(http, token, touser="ghost1|ghost2")
        delivered = http.get("/emulator/api/messages").json()["messages"]

    assert partial["errcode"] == 0
    assert partial["invaliduser"] == "ghost"
    assert all_invalid["errcode"] == 81013
    assert all_invalid["invaliduser"] == "ghost1|ghost2"
    assert sorted(m["touser"] for m in delivered) == ["lisi", "zhangsan"]


# Per-member rate limits


def test_31st_message_in_a_minute_is_dropped_silently(http, inspector, clock):
    token = get_token(http)["access_token"]

    answers = []
    for number in range(31):
        answers.append(send(http, token, content=f"第{number + 1}条"))
        clock.advance(1)

    assert all(answer["errcode"] == 0 for answer in answers)
    assert len(inspector.messages(touser="zhangsan")) == 30
    dropped = inspector.dropped(touser="zhangsan")
    assert [m["content"] for m in dropped] == ["第31条"]
    assert dropped[0]["reason"] == "minute_limit"


def test_minute_window_slides_forward(http, inspector, clock):
    token = get_token(http)["access_token"]
    for _ in range(30):
        send(http, token)
    clock.advance(59)
    send(http, token, content="仍在窗口内")
    clock.advance(1)
    send(http, token, content="窗口已过")

    assert [m["content"] for m in inspector.dropped()] == ["仍在窗口内"]
    assert inspector.messages()[-1]["content"] == "窗口已过"


def test_rate_limits_are_per_member(http, inspector):
    token = get_token(http)["access_token"]
    for _ in range(30):
        send(http, token, touser="zhangsan")

    send(http, token, touser="lisi")

    assert len(inspector.messages(touser="lisi")) == 1
    assert inspector.dropped() == []


def test_hour_limit_drops_the_1001st_message(clock):
    state = EmulatorState(EmulatorConfig(), clock)
    token = state.get_token(DEV_CORP_ID, DEV_SECRET).body["access_token"]

    for _ in range(1001):
        answer = state.send_message(token, text_payload()).body
        assert answer["errcode"] == 0
        clock.advance(3)  # 20 a minute: under the minute limit, 1,200 an hour

    assert len(state.messages()) == 1000
    assert [m["reason"] for m in state.dropped()] == ["hour_limit"]
    clock.advance(3600)
    state.send_message(token, text_payload())
    assert len(state.messages()) == 1001


# Faults


def test_errcode_fault_applies_count_times(http, inspector):
    token = get_token(http)["access_token"]
    inspector.inject_fault("message/send", errcode=-1, count=2)

    codes = [send(http, token)["errcode"] for _ in range(3)]

    assert codes == [-1, -1, 0]
    assert len(inspector.messages()) == 1


def test_errcode_fault_uses_wecom_errmsg(http, inspector):
    token = get_token(http)["access_token"]
    inspector.inject_fault("/cgi-bin/message/send", errcode=45009)

    assert send(http, token) == {"errcode": 45009, "errmsg": "api freq out of limit"}


def test_gettoken_fault(http, inspector):
    inspector.inject_fault("gettoken", errcode=-1)

    assert get_token(http)["errcode"] == -1
    assert get_token(http)["errcode"] == 0


def test_delay_fault_times_out_a_client(http, inspector):
    token = get_token(http)["access_token"]
    inspector.inject_fault("message/send", delay_seconds=1.0)

    with pytest.raises(httpx.ReadTimeout):
        http.post("/cgi-bin/message/send", params={"access_token": token}, json=text_payload(), timeout=0.2)


@pytest.mark.parametrize(
    "body",
    [{"path": "message/send"}, {"path": "user/get", "errcode": -1}, {"errcode": -1, "count": 0}],
)
def test_fault_request_is_validated(http, body):
    assert http.post("/emulator/api/faults", json=body).status_code in (400, 422)


# Inspection


def test_messages_filter_by_user_and_id(http, inspector):
    token = get_token(http)["access_token"]
    send(http, token, touser="zhangsan", content="一")
    send(http, token, touser="lisi", content="二")
    send(http, token, touser="zhangsan", content="三")
    first_id = inspector.messages()[0]["id"]

    assert [m["content"] for m in inspector.messages(touser="zhangsan")] == ["一", "三"]
    assert [m["content"] for m in inspector.messages(after=first_id)] == ["二", "三"]


def test_reset_clears_messages_and_keeps_tokens(http, inspector):
    token = get_token(http)["access_token"]
    send(http, token)
    inspector.inject_fault(errcode=-1)

    inspector.reset()

    assert inspector.messages() == []
    assert inspector.stats() == {"gettoken_calls": 0, "message_send_calls": 0}
    assert send(http, token)["errcode"] == 0


def test_wait_for_messages_times_out_with_counts(inspector):
    with pytest.raises(TimeoutError, match="expected 1 messages for 'zhangsan'"):
        inspector.wait_for_messages("zhangsan", 1, timeout=0.1)


def test_overview_page_lists_messages_in_chinese(http):
    token = get_token(http)["access_token"]
    send(http, token, touser="zhangsan", content="<b>报价</b>")

    page = http.get("/overview").text

    assert "企业微信模拟器" in page
    assert "zhangsan" in page
    assert "&lt;b&gt;报价&lt;/b&gt;" in page
    assert "<b>报价</b>" not in page


def test_overview_page_without_messages(http):
    assert "暂无已送达的消息" in http.get("/overview").text


def test_index_page_is_interactive_and_chinese(http):
    page = http.get("/").text

    assert '<html lang="zh-CN">' in page
    assert "以成员身份操作" in page
    assert "群聊与群机器人" in page
    assert DEV_CORP_ID in page
    assert "/emulator/api/" in page


def test_device_endpoint_needs_callback_url(http):
    response = http.post("/emulator/api/device/text", json={"user": "zhangsan", "text": "你好"})

    assert response.status_code == 409
    assert "回调地址" in response.json()["detail"]
