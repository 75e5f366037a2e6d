"""Template cards in the emulator: validation, updates, single-use response codes and clicks."""

from collections.abc import Iterator
from xml.etree import ElementTree

import httpx
import pytest

from bot.emulator import (
    EmulatorConfig,
    EmulatorInspector,
    ManualClock,
    RunningServer,
    start_emulator_in_thread,
)
from bot.settings import DEV_AES_KEY, DEV_CORP_ID, DEV_TOKEN
from tests.unit.test_device import Receiver, start_receiver
from tests.unit.test_emulator import AGENT_ID, get_token

HOURS_72 = 72 * 3600


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver, server = start_receiver(DEV_TOKEN, DEV_AES_KEY, DEV_CORP_ID)
    yield receiver
    server.stop()


@pytest.fixture
def emulator(clock: ManualClock, receiver: Receiver) -> Iterator[RunningServer]:
    config = EmulatorConfig(callback_url=receiver.url, known_users=frozenset({"zhangwei", "lina", "zhaomin"}))
    server = start_emulator_in_thread(config, clock=clock)
    yield server
    server.stop()


# The fixtures below also serve test_emulator_media and test_emulator_groups, each with an
# `emulator` fixture of its own. Uploads of 20 MB need the long timeout.
@pytest.fixture(name="http")
def http_fixture(emulator: RunningServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator.url, timeout=30.0) as client:
        yield client


@pytest.fixture(name="inspector")
def inspector_fixture(emulator: RunningServer) -> Iterator[EmulatorInspector]:
    inspector = EmulatorInspector(emulator.url)
    yield inspector
    inspector.close()


@pytest.fixture(name="token")
def token_fixture(http: httpx.Client) -> str:
    return get_token(http)["access_token"]


def button_card(task_id: str = "quote-17", buttons: list | None = None, **overrides) -> dict:
    card = {
        "card_type": "button_interaction",
        "main_title": {"title": "报价审批", "desc": "华东建材 P.O42.5 水泥 500 吨"},
        "horizontal_content_list": [{"keyname": "金额", "value": "¥180,000"}],
        "task_id": task_id,
        "button_list": buttons
        if buttons is not None
        else [{"text": "同意", "style": 1, "key": "approve"}, {"text": "驳回", "style": 3, "key": "reject"}],
    }
    card.update(overrides)
    return card


def send_card(http: httpx.Client, token: str, card: dict, touser: str = "zhangwei|lina") -> dict:
    payload = {"touser": touser, "msgtype": "template_card", "agentid": AGENT_ID, "template_card": card}
    return http.post("/cgi-bin/message/send", params={"access_token": token}, json=payload).json()


def update_card(http: httpx.Client, token: str, response_code: str, userids: list[str] | None = None, **fields) -> dict:
    payload = {
        "userids": userids if userids is not None else ["zhangwei"],
        "agentid": AGENT_ID,
        "response_code": response_code,
        "button": {"replace_name": "已同意"},
    }
    payload.update(fields)
    return http.post("/cgi-bin/message/update_template_card", params={"access_token": token}, json=payload).json()


# Sending cards


def test_button_card_is_delivered_with_response_code(http, token, inspector):
    card = button_card()

    body = send_card(http, token, card)
    messages = inspector.messages()

    assert body["errcode"] == 0
    assert body["response_code"]
    assert [m["touser"] for m in messages] == ["zhangwei", "lina"]
    assert messages[0]["msgtype"] == "template_card"
    assert messages[0]["content"] == card
    assert messages[0]["task_id"] == "quote-17"
    assert messages[0]["card"]["updated"] is False
    assert messages[0]["card"]["replace_name"] is None


def test_duplicate_task_id_is_42014(http, token):
    assert send_card(http, token, button_card("quote-17"))["errcode"] == 0

    body = send_card(http, token, button_card("quote-17"))

    assert body["errcode"] == 42014
    assert "response_code" not in body


@pytest.mark.parametrize(
    ("task_id", "errcode"),
    [
        ("a" * 128, 0),
        ("Quote_1-2@x", 0),
        ("a" * 129, 42014),
        ("", 42014),
        ("报价17", 42014),
        ("quote 17", 42014),
        (None, 42014),
    ],
)
def test_task_id_rules(http, token, task_id, errcode):
    card = button_card(task_id)
    if task_id is None:
        del card["task_id"]

    assert send_card(http, token, card)["errcode"] == errcode


def test_rejected_card_does_not_reserve_its_task_id(http, token):
    assert send_card(http, token, button_card("quote-9", buttons=[]))["errcode"] == 40058

    assert send_card(http, token, button_card("quote-9"))["errcode"] == 0


@pytest.mark.parametrize(
    ("buttons", "errcode"),
    [
        ([], 40058),
        ([{"text": f"选项{n}", "key": f"k{n}"} for n in range(6)], 0),
        ([{"text": f"选项{n}", "key": f"k{n}"} for n in range(7)], 40058),
        ([{"text": "同意"}], 42019),
        ([{"key": "approve"}], 42020),
        ([{"text": "同意", "key": "same"}, {"text": "驳回", "key": "same"}], 42018),
        ([{"text": "同意", "key": "k" * 1025}], 42018),
    ],
)
def test_button_list_rules(http, token, buttons, errcode):
    assert send_card(http, token, button_card(buttons=buttons))["errcode"] == errcode


def test_card_without_main_title_is_40058(http, token):
    card = button_card()
    del card["main_title"]

    assert send_card(http, token, card)["errcode"] == 40058


def test_unknown_card_type_is_40058(http, token):
    assert send_card(http, token, button_card(card_type="hologram"))["errcode"] == 40058


def test_card_to_unknown_users_is_not_registered(http, token):
    assert send_card(http, token, button_card("quote-3"), touser="ghost")["errcode"] == 81013

    assert send_card(http, token, button_card("quote-3"))["errcode"] == 0


# Updating cards


def test_update_greys_card_for_every_recipient(http, token, inspector):
    code = send_card(http, token, button_card())["response_code"]

    body = update_card(http, token, code, userids=["zhangwei", "zhaomin"])
    messages = inspector.messages()

    assert body["errcode"] == 0
    assert body["invaliduser"] == ["zhaomin"]
    assert [m["card"]["updated"] for m in messages] == [True, True]
    assert [m["card"]["replace_name"] for m in messages] == ["已同意", "已同意"]
    assert inspector.card("quote-17")["update_userids"] == ["zhangwei", "zhaomin"]


def test_response_code_is_single_use(http, token):
    code = send_card(http, token, button_card())["response_code"]

    assert update_card(http, token, code)["errcode"] == 0
    assert update_card(http, token, code)["errcode"] == 42022


def test_unknown_response_code_is_40058(http, token):
    send_card(http, token, button_card())

    assert update_card(http, token, "not-a-code")["errcode"] == 40058


def test_response_code_expires_after_72_hours(http, token, clock):
    first = send_card(http, token, button_card("quote-1"))["response_code"]
    second = send_card(http, token, button_card("quote-2"))["response_code"]

    clock.advance(HOURS_72 - 1)
    token = get_token(http)["access_token"]  # the first token expired after 2 hours
    assert update_card(http, token, first)["errcode"] == 0
    clock.advance(1)
    assert update_card(http, token, second)["errcode"] == 40058


def test_failed_update_keeps_the_code_unspent(http, token):
    code = send_card(http, token, button_card())["response_code"]

    assert update_card(http, token, code, agentid=AGENT_ID + 1)["errcode"] == 40056
    assert update_card(http, token, code, button={})["errcode"] == 40058
    assert update_card(http, token, code)["errcode"] == 0


def test_update_needs_a_token(http, token):
    code = send_card(http, token, button_card())["response_code"]
    payload = {"userids": ["zhangwei"], "agentid": AGENT_ID, "response_code": code, "button": {"replace_name": "x"}}

    body = http.post("/cgi-bin/message/update_template_card", json=payload).json()

    assert body["errcode"] == 41001


def test_update_to_new_card_replaces_content(http, token, inspector):
    code = send_card(http, token, button_card())["response_code"]
    notice = {"card_type": "text_notice", "main_title": {"title": "已审批"}, "card_action": {"type": 1, "url": "https://example.invalid"}}
    payload = {"userids": ["zhangwei"], "agentid": AGENT_ID, "response_code": code, "template_card": notice}

    body = http.post("/cgi-bin/message/update_template_card", params={"access_token": token}, json=payload).json()

    assert body["errcode"] == 0
    assert inspector.messages()[0]["content"] == notice
    assert inspector.messages()[0]["card"]["updated"] is True


# Clicking cards as a member


def parse_event(plain: str) -> dict[str, str]:
    return {child.tag: child.text or "" for child in ElementTree.fromstring(plain)}


def test_click_posts_encrypted_card_event(http, token, inspector, receiver):
    send_card(http, token, button_card())

    response = inspector.click_card("lina", "quote-17", "approve")

    fields = parse_event(receiver.received[-1].plain)
    assert response.status_code == 200
    assert response.json()["status_code"] == 200
    assert fields["MsgType"] == "event"
    assert fields["Event"] == "template_card_event"
    assert fields["FromUserName"] == "lina"
    assert fields["TaskId"] == "quote-17"
    assert fields["EventKey"] == "approve"
    assert fields["CardType"] == "button_interaction"
    assert fields["ResponseCode"] == response.json()["response_code"]
    assert fields["AgentID"] == str(AGENT_ID)
    assert "SelectedItems" in fields


def test_click_code_updates_the_card_once(http, token, inspector):
    send_card(http, token, button_card())
    code = inspector.click_card("zhangwei", "quote-17", "reject").json()["response_code"]

    assert update_card(http, token, code)["errcode"] == 0
    assert update_card(http, token, code)["errcode"] == 42022
    assert inspector.card("quote-17")["clicks"][0]["key"] == "reject"


def test_click_code_expires_72_hours_after_the_click(http, token, inspector, clock):
    send_card(http, token, button_card())
    clock.advance(HOURS_72 - 60)
    code = inspector.click_card("zhangwei", "quote-17", "approve").json()["response_code"]

    clock.advance(HOURS_72 - 1)
    token = get_token(http)["access_token"]
    assert update_card(http, token, code)["errcode"] == 0


def test_click_code_expired_after_72_hours(http, token, inspector, clock):
    send_card(http, token, button_card())
    code = inspector.click_card("zhangwei", "quote-17", "approve").json()["response_code"]

    clock.advance(HOURS_72)
    token = get_token(http)["access_token"]
    assert update_card(http, token, code)["errcode"] == 40058


@pytest.mark.parametrize(
    ("user", "task_id", "key", "status_code"),
    [
        ("zhangwei", "no-such-card", "approve", 404),
        ("zhaomin", "quote-17", "approve", 403),
        ("zhangwei", "quote-17", "escalate", 400),
    ],
)
def test_click_rejections(http, token, inspector, receiver, user, task_id, key, status_code):
    send_card(http, token, button_card())

    response = inspector.click_card(user, task_id, key)

    assert response.status_code == status_code
    assert receiver.received == []


def test_click_on_updated_card_is_409(http, token, inspector):
    code = send_card(http, token, button_card())["response_code"]
    update_card(http, token, code)

    response = inspector.click_card("lina", "quote-17", "approve")

    assert response.status_code == 409
    assert "已更新" in response.json()["detail"]


def test_click_shows_in_member_conversation(http, token, inspector):
    send_card(http, token, button_card())
    inspector.click_card("lina", "quote-17", "approve")

    conversation = inspector.conversation("lina")

    assert [(m["direction"], m["msgtype"]) for m in conversation] == [("out", "template_card"), ("in", "card_click")]
    assert conversation[1]["content"] == {"task_id": "quote-17", "key": "approve", "text": "同意"}


def test_click_without_callback_url_is_409(clock):
    with start_emulator_in_thread(EmulatorConfig(), clock=clock) as server:
        inspector = EmulatorInspector(server.url)
        response = inspector.click_card("zhangwei", "quote-17", "approve")
        inspector.close()

    assert response.status_code == 409
