"""The emulator's WeChat customer service rules, through `KfClient` over loopback with a manual clock."""

from collections.abc import Iterator

import httpx
import pytest

from bot.emulator import EmulatorConfig, ManualClock, start_emulator_in_thread
from bot.emulator.kf import DEFAULT_OPEN_KFID
from bot.stores import MemoryStore
from bot.wecom.client import WeComClient
from bot.wecom.kf import KfClient

HOUR = 3600


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def emulator_url(clock: ManualClock) -> Iterator[str]:
    server = start_emulator_in_thread(EmulatorConfig(), clock=clock)
    yield server.url
    server.stop()


@pytest.fixture
def kf(emulator_url: str) -> Iterator[KfClient]:
    config = EmulatorConfig()
    client = WeComClient(config.corp_id, config.secret, config.agent_id, f"{emulator_url}/cgi-bin/", MemoryStore())
    yield KfClient(client)
    client.close()


@pytest.fixture
def http(emulator_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{emulator_url}/emulator/api/kf", timeout=5.0) as client:
        yield client


def _customer_says(http: httpx.Client, user: str, text: str, **fields) -> dict:
    response = http.post("/customer_message", json={"external_userid": user, "text": text, **fields})
    response.raise_for_status()
    return response.json()


def _text(content: str) -> dict:
    return {"msgtype": "text", "text": {"content": content}}


def test_sync_pages_with_cursor(kf, http):
    tokens = [_customer_says(http, "wmA", f"消息{i}")["token"] for i in range(3)]

    first = kf.sync_msg(open_kfid=DEFAULT_OPEN_KFID, token=tokens[-1], cursor=None, limit=2)
    assert first.ok
    assert [m.text for m in first.messages] == ["消息0", "消息1"]
    assert first.has_more
    second = kf.sync_msg(open_kfid=DEFAULT_OPEN_KFID, token=tokens[-1], cursor=first.next_cursor, limit=2)
    assert [m.text for m in second.messages] == ["消息2"]
    assert not second.has_more
    again = kf.sync_msg(open_kfid=DEFAULT_OPEN_KFID, token=None, cursor=second.next_cursor)
    assert again.messages == ()

    message = first.messages[0]
    assert message.external_userid == "wmA"
    assert message.origin == 3
    assert message.msgtype == "text"


def test_sync_filters_by_account(kf, http):
    _customer_says(http, "wmA", "给默认账号")
    _customer_says(http, "wmB", "给售后账号", open_kfid="wkAfterSales")

    result = kf.sync_msg(open_kfid="wkAfterSales", token=None, cursor=None)

    assert [m.text for m in result.messages] == ["给售后账号"]
    assert kf.sync_msg(open_kfid="wkUnknown", token=None, cursor=None).errcode == 95000


def test_sync_token_expires_after_ten_minutes(kf, http, clock):
    token = _customer_says(http, "wmA", "你好")["token"]
    clock.advance(599)
    assert kf.sync_msg(open_kfid=None, token=token, cursor=None).ok

    clock.advance(2)
    assert kf.sync_msg(open_kfid=None, token=token, cursor=None).errcode == 95007
    assert kf.sync_msg(open_kfid=None, token="ENCforged", cursor=None).errcode == 95007
    assert kf.sync_msg(open_kfid=None, token=None, cursor="not-a-cursor").errcode == 40058


def test_send_allows_five_per_customer_message(kf, http):
    _customer_says(http, "wmA", "你好")
    results = [kf.send_msg(DEFAULT_OPEN_KFID, "wmA", _text(f"回复{i}")) for i in range(6)]

    assert [r.errcode for r in results] == [0, 0, 0, 0, 0, 95001]
    assert [m["content"] for m in http.get("/messages", params={"touser": "wmA"}).json()["messages"]] == [
        f"回复{i}" for i in range(5)
    ]
    assert http.get("/rejected").json()["sends"][0]["errcode"] == 95001

    _customer_says(http, "wmA", "还在吗")
    assert kf.send_msg(DEFAULT_OPEN_KFID, "wmA", _text("在的")).ok


def test_send_closes_after_48_hours(kf, http, clock):
    _customer_says(http, "wmA", "你好")
    clock.advance(48 * HOUR)
    assert kf.send_msg(DEFAULT_OPEN_KFID, "wmA", _text("刚好 48 小时")).ok

    clock.advance(1)
    assert kf.send_msg(DEFAULT_OPEN_KFID, "wmA", _text("晚了")).errcode == 95002

    _customer_says(http, "wmB", "两天前的消息", send_time=clock() - 49 * HOUR)
    assert kf.send_msg(DEFAULT_OPEN_KFID, "wmB", _text("晚了")).errcode == 95002


def test_send_rejects_unknown_and_malformed(kf, http):
    _customer_says(http, "wmA", "你好")

    assert kf.send_msg(DEFAULT_OPEN_KFID, "wmNobody", _text("你好")).errcode == 40096
    assert kf.send_msg("wkUnknown", "wmA", _text("你好")).errcode == 95000
    assert kf.send_msg(DEFAULT_OPEN_KFID, "wmA", {"msgtype": "template_card", "template_card": {}}).errcode == 40008
    assert kf.send_msg(DEFAULT_OPEN_KFID, "wmA", _text("长" * 700)).errcode == 45002
    assert kf.send_msg(DEFAULT_OPEN_KFID, "wmA", {"msgtype": "file", "file": {"media_id": "missing"}}).errcode == 40007
    # Rejected sends do not use up the window.
    assert [kf.send_msg(DEFAULT_OPEN_KFID, "wmA", _text(f"回复{i}")).ok for i in range(5)] == [True] * 5


def test_send_without_access_token_rejected(emulator_url, http):
    _customer_says(http, "wmA", "你好")
    body = {"touser": "wmA", "open_kfid": DEFAULT_OPEN_KFID, **_text("你好")}

    response = httpx.post(f"{emulator_url}/cgi-bin/kf/send_msg", json=body)

    assert response.json()["errcode"] == 41001
    assert http.get("/messages").json()["messages"] == []


def test_unreachable_callback_reported(clock):
    # Port 9 (discard) has no listener on loopback, so the emulator's callback post fails.
    server = start_emulator_in_thread(EmulatorConfig(callback_url="http://127.0.0.1:9/wecom/callback"), clock=clock)
    try:
        response = httpx.post(
            f"{server.url}/emulator/api/kf/customer_message", json={"external_userid": "wmA", "text": "你好"}, timeout=10
        )
    finally:
        server.stop()

    assert response.status_code == 502
    assert response.json()["detail"].startswith("回调地址无法访问")
