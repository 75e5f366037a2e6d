"""The emulator's page in a real headless Chromium: a person chats as a member and taps a card.

A tiny echo bot replaces Zhongshu here: it decrypts the callback with wechatpy's WeChatCrypto
and replies through the emulator's APIs with a text, an image and an approval card, and it
greys the card out when a member taps a button. Needs Debian's chromium at /usr/bin/chromium
and the playwright Python package; the test skips without them.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import httpx
import pytest
from fastapi import BackgroundTasks, FastAPI, Request, Response
from wechatpy.enterprise.crypto import WeChatCrypto

from bot.emulator import (
    EmulatorConfig,
    EmulatorInspector,
    RunningServer,
    start_app_in_thread,
    start_emulator_in_thread,
)
from bot.settings import DEV_AES_KEY, DEV_CORP_ID, DEV_SECRET, DEV_TOKEN

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AGENT_ID = EmulatorConfig().agent_id
ROBOT_KEY = "sales-director-robot"
WAIT_MS = 10_000

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
if not CHROMIUM.exists():
    pytest.skip("Debian's chromium is not installed at /usr/bin/chromium (apt-get install chromium)", allow_module_level=True)


def tiny_png(width: int = 24, height: int = 16) -> bytes:
    """Return a real, decodable PNG: a solid blue rectangle."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = b"\x00" + b"\x2b\x7d\xe9" * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


class EchoBot:
    """A bot that replies to texts with a text, an image and an approval card, and greys tapped cards."""

    def __init__(self) -> None:
        self.api_base = ""
        self.events: list[dict[str, str]] = []
        self.errors: list[str] = []
        self._crypto = WeChatCrypto(DEV_TOKEN, DEV_AES_KEY, DEV_CORP_ID)
        self._task_numbers = itertools.count(1)
        self._lock = threading.Lock()

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/wecom/callback")
        async def receive(
            request: Request, msg_signature: str, timestamp: str, nonce: str, background: BackgroundTasks
        ) -> Response:
            plain = self._crypto.decrypt_message(await request.body(), msg_signature, timestamp, nonce)
            fields = {child.tag: child.text or "" for child in ElementTree.fromstring(plain)}
            background.add_task(self.handle, fields)
            return Response(status_code=200)

        return app

    def handle(self, fields: dict[str, str]) -> None:
        with self._lock, httpx.Client(base_url=self.api_base, timeout=5.0) as http:
            token = http.get("gettoken", params={"corpid": DEV_CORP_ID, "corpsecret": DEV_SECRET}).json()["access_token"]
            if fields.get("MsgType") == "text":
                self.reply_to_text(http, token, fields["FromUserName"], fields["Content"])
            elif fields.get("Event") == "template_card_event":
                self.events.append(fields)
                self.close_card(http, token, fields)

    def call(self, http: httpx.Client, path: str, token: str, **kwargs) -> dict:
        body = http.post(path, params={"access_token": token}, **kwargs).json()
        if body["errcode"]:
            self.errors.append(f"{path}: {body}")
        return body

    def reply_to_text(self, http: httpx.Client, token: str, user: str, text: str) -> None:
        self.call(http, "message/send", token, json={
            "touser": user, "msgtype": "text", "agentid": AGENT_ID, "text": {"content": f"收到：{text}"},
        })
        files = {"media": ("funnel.png", tiny_png(), "image/png")}
        media_id = http.post("media/upload", params={"access_token": token, "type": "image"}, files=files).json()["media_id"]
        self.call(http, "message/send", token, json={
            "touser": user, "msgtype": "image", "agentid": AGENT_ID, "image": {"media_id": media_id},
        })
        card = {
            "card_type": "button_interaction",
            "main_title": {"title": "报价审批", "desc": "华东建材 P.O42.5 水泥 500 吨"},
            "horizontal_content_list": [{"keyname": "金额", "value": "¥180,000"}],
            "task_id": f"echo-{next(self._task_numbers)}",
            "button_list": [{"text": "同意", "style": 1, "key": "approve"}, {"text": "驳回", "style": 3, "key": "reject"}],
        }
        self.call(http, "message/send", token, json={
            "touser": user, "msgtype": "template_card", "agentid": AGENT_ID, "template_card": card,
        })

    def close_card(self, http: httpx.Client, token: str, fields: dict[str, str]) -> None:
        decision = "已同意" if fields["EventKey"] == "approve" else "已驳回"
        self.call(http, "message/update_template_card", token, json={
            "userids": [fields["FromUserName"]], "agentid": AGENT_ID,
            "response_code": fields["ResponseCode"], "button": {"replace_name": decision},
        })


@pytest.fixture
def echo_bot() -> Iterator[tuple[EchoBot, RunningServer]]:
    bot = EchoBot()
    server = start_app_in_thread(bot.app())
    yield bot, server
    server.stop()


@pytest.fixture
def emulator(echo_bot: tuple[EchoBot, RunningServer]) -> Iterator[RunningServer]:
    bot, bot_server = echo_bot
    config = EmulatorConfig(
        callback_url=f"{bot_server.url}/wecom/callback", known_users=frozenset({"zhangwei", "lina", "zhaomin"})
    )
    server = start_emulator_in_thread(config)
    bot.api_base = f"{server.url}/cgi-bin/"
    yield server
    server.stop()


@pytest.fixture
def page(tmp_path: Path) -> Iterator[object]:
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            headless=True,
            locale="zh-CN",
            viewport={"width": 1280, "height": 900},
        )
        try:
            yield context.new_page()
        finally:
            context.close()


def wait_until(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met within {timeout:.0f} s")
        time.sleep(0.05)


def post_group_messages(emulator_url: str) -> None:
    """Create an app group chat with one message and post one robot image, as reports would."""
    with httpx.Client(base_url=f"{emulator_url}/cgi-bin/", timeout=5.0) as http:
        token = http.get("gettoken", params={"corpid": DEV_CORP_ID, "corpsecret": DEV_SECRET}).json()["access_token"]
        chat = http.post("appchat/create", params={"access_token": token}, json={
            "name": "华东区销售群", "owner": "zhangwei", "userlist": ["zhangwei", "lina"], "chatid": "eastsales",
        }).json()
        assert chat["errcode"] == 0, chat
        sent = http.post("appchat/send", params={"access_token": token}, json={
            "chatid": "eastsales", "msgtype": "text", "text": {"content": "本周回款通报：3 笔"},
        }).json()
        assert sent["errcode"] == 0, sent
        png = tiny_png()
        image = {"base64": base64.b64encode(png).decode("ascii"), "md5": hashlib.md5(png).hexdigest()}
        posted = http.post("webhook/send", params={"key": ROBOT_KEY}, json={"msgtype": "image", "image": image}).json()
        assert posted["errcode"] == 0, posted


def test_member_chats_and_taps_card_in_browser(page, emulator, echo_bot, tmp_path):
    bot, _ = echo_bot
    expect = sync_api.expect
    post_group_messages(emulator.url)

    page.goto(emulator.url + "/")
    expect(page.locator("h1")).to_have_text("企业微信模拟器")
    page.fill("#user-input", "zhangwei")
    page.click("#choose-user")
    expect(page.locator("#current-user")).to_have_text("当前成员：zhangwei")

    page.fill("#message-input", "你好，帮我报个价")
    page.click("#send-button")
    conversation = page.locator("#conversation")
    expect(conversation.get_by_text("你好，帮我报个价")).to_be_visible(timeout=WAIT_MS)
    expect(conversation.get_by_text("收到：你好，帮我报个价")).to_be_visible(timeout=WAIT_MS)
    card = conversation.locator(".card")
    expect(card).to_be_visible(timeout=WAIT_MS)
    expect(card.locator(".title")).to_have_text("报价审批")
    image = conversation.locator("img.media-image")
    expect(image).to_be_visible(timeout=WAIT_MS)
    wait_until(lambda: image.evaluate("node => node.complete && node.naturalWidth") == 24)

    card.locator("button[data-key=approve]").click()
    wait_until(lambda: len(bot.events) == 1)
    expect(card).to_have_class("card greyed", timeout=WAIT_MS)
    expect(card.locator("button")).to_have_text("已同意")
    expect(card.locator("button")).to_be_disabled()

    groups = page.locator("#groups")
    expect(groups.get_by_text("群聊：华东区销售群（eastsales）")).to_be_visible(timeout=WAIT_MS)
    expect(groups.get_by_text("本周回款通报：3 笔")).to_be_visible()
    expect(groups.get_by_text(f"群机器人：{ROBOT_KEY}")).to_be_visible()
    expect(groups.locator("img.media-image")).to_be_visible()

    screenshot = tmp_path / "emulator-page.png"
    page.screenshot(path=str(screenshot), full_page=True)

    event = bot.events[0]
    inspector = EmulatorInspector(emulator.url)
    state = inspector.card(event["TaskId"])
    inspector.close()
    assert bot.errors == []
    assert event["FromUserName"] == "zhangwei"
    assert event["EventKey"] == "approve"
    assert event["CardType"] == "button_interaction"
    assert event["ResponseCode"]
    assert state["updated"] is True
    assert state["replace_name"] == "已同意"
    assert screenshot.stat().st_size > 0
