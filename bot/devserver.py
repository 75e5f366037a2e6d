"""`zhongshu dev`: the bot and the local WeCom emulator together on loopback."""

import json
import logging
import sys
import time
from pathlib import Path

import httpx
import uvicorn
from sqlalchemy import func, select

from bot.app import create_app
from bot.emulator.device import WeComDevice
from bot.emulator.server import EmulatorInspector, start_emulator_in_thread
from bot.emulator.state import EmulatorConfig
from bot.settings import Settings, get_settings
from models.db import Database
from models.migrate import upgrade
from models.org import User
from models.world import import_world

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
DEMO_WORLD = Path(__file__).resolve().parent / "demo" / "world.json"
# After the first reply part, wait this long for further parts of a split reply.
MORE_PARTS_SECONDS = 0.6


def dev_settings(emulator_port: int) -> Settings:
    settings = get_settings()
    if not settings.is_development:
        raise SystemExit("zhongshu dev 只能在开发环境运行(ZHONGSHU_ENV 不是 production)")
    return settings.model_copy(update={"wecom_api_base": f"http://{HOST}:{emulator_port}/cgi-bin/"})


def load_demo_company_if_empty(database_url: str) -> bool:
    """Load the demo company into an empty database; return whether it did."""
    upgrade(database_url)
    db = Database(database_url)
    try:
        with db.session() as session:
            if session.scalar(select(func.count()).select_from(User)):
                return False
            import_world(session, json.loads(DEMO_WORLD.read_text(encoding="utf-8")))
            return True
    finally:
        db.dispose()


def run(bot_port: int, emulator_port: int) -> int:
    settings = dev_settings(emulator_port)
    if settings.is_sqlite and load_demo_company_if_empty(settings.database_url):
        print("数据库是空的,已载入演示公司(用户 zhangwei、lina、zhaomin 等)。")

    callback_url = f"http://{HOST}:{bot_port}/wecom/callback"
    emulator = start_emulator_in_thread(
        EmulatorConfig(
            corp_id=settings.wecom_corp_id, secret=settings.wecom_secret, agent_id=settings.wecom_agent_id,
            callback_url=callback_url, callback_token=settings.wecom_token, callback_aes_key=settings.wecom_aes_key,
        ),
        host=HOST, port=emulator_port,
    )
    print(f"本地企业微信模拟器:{emulator.url}/  (在浏览器打开可查看机器人发出的消息)")
    print(f"机器人回调地址:{callback_url}")
    print('另开一个终端试试:zhongshu dev send --user zhangwei "今天拜访了恒达的王经理,要P.O42.5水泥500吨"')
    try:
        uvicorn.run(create_app(settings), host=HOST, port=bot_port, log_level=settings.log_level.lower())
    finally:
        emulator.stop()
    return 0


def send(user: str, text: str, bot_port: int, emulator_port: int, timeout: float) -> int:
    """Post a text as `user` through the real callback crypto and print the bot's replies."""
    settings = dev_settings(emulator_port)
    inspector = EmulatorInspector(f"http://{HOST}:{emulator_port}")
    device = WeComDevice(
        f"http://{HOST}:{bot_port}/wecom/callback", settings.wecom_token, settings.wecom_aes_key,
        settings.wecom_corp_id, settings.wecom_agent_id,
    )
    try:
        seen = inspector.messages(touser=user)
        after = seen[-1]["id"] if seen else 0
        response = device.send_text(user, text)
        if response.status_code != 200:
            print(f"回调返回 HTTP {response.status_code},消息没有被接收。", file=sys.stderr)
            return 1
        replies = inspector.wait_for_messages(user, 1, after=after, timeout=timeout)
        time.sleep(MORE_PARTS_SECONDS)
        replies = inspector.messages(touser=user, after=after) or replies
    except httpx.ConnectError:
        print("连不上机器人或模拟器,请先在另一个终端运行 zhongshu dev。", file=sys.stderr)
        return 1
    except TimeoutError:
        print(f"{timeout:.0f} 秒内没有收到回复。", file=sys.stderr)
        return 1
    finally:
        device.close()
        inspector.close()
    for reply in replies:
        content = reply.get("content")
        print(content if isinstance(content, str) else json.dumps(content, ensure_ascii=False))
    return 0
