"""The inbox survives restarts and is shared by several workers without double processing."""

import threading
import time
from datetime import timedelta

from sqlalchemy import func, select

from bot.app import create_app
from bot.emulator.device import WeComDevice
from bot.emulator.server import EmulatorInspector, start_app_in_thread
from bot.inbox import claim_messages, store_message
from models.activity import Activity
from models.base import utcnow
from models.messages import InboundMessage, InboxStatus
from tests.conftest import LiveBot


def _fields(user: str, msg_id: int, text: str = "今天拜访恒达王经理") -> dict:
    return {"FromUserName": user, "CreateTime": "1764813600", "MsgType": "text", "Content": text,
            "MsgId": str(msg_id), "AgentID": "1000002"}


def test_message_stored_before_crash_processed_after_restart(bot_settings, db, emulator, world):
    # A bot without workers stands for a process that stored the message and then died.
    stopped = start_app_in_thread(create_app(bot_settings, run_workers=False))
    device = WeComDevice(f"{stopped.url}/wecom/callback", bot_settings.wecom_token, bot_settings.wecom_aes_key,
                         bot_settings.wecom_corp_id, bot_settings.wecom_agent_id)
    response = device.send_text("zhangwei", "今天拜访恒达王经理,聊了P.O42.5水泥")
    device.close()
    stopped.stop()
    assert response.status_code == 200

    with db.session() as session:
        message = session.scalars(select(InboundMessage)).one()
        message.status = InboxStatus.PROCESSING  # claimed by a worker of the dead process
        message.claimed_at = utcnow() - timedelta(minutes=10)

    restarted = start_app_in_thread(create_app(bot_settings))
    inspector = EmulatorInspector(emulator.url)
    try:
        LiveBot(settings=bot_settings, db=db, device=None, inspector=inspector).wait_idle()
        replies = inspector.messages(touser="zhangwei")
    finally:
        inspector.close()
        restarted.stop()
    assert len(replies) == 1
    assert "已记录" in replies[0]["content"]
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Activity)) == 1
        assert session.scalars(select(InboundMessage)).one().status == InboxStatus.DONE


def test_workers_share_inbox_without_double_claims(db):
    users = [f"rep{i}" for i in range(5)]
    for n in range(60):
        assert store_message(db, _fields(users[n % 5], 10_000 + n)) is not None
    assert store_message(db, _fields(users[0], 10_000)) is None  # a retried delivery

    processed: list[tuple[str, int]] = []
    lock = threading.Lock()

    def work(name: str) -> None:
        idle_rounds = 0
        while idle_rounds < 20:
            claimed = claim_messages(db, name, limit=3)
            if not claimed:
                idle_rounds += 1
                time.sleep(0.01)
                continue
            idle_rounds = 0
            for message_id in claimed:
                with db.session() as session:
                    message = session.get(InboundMessage, message_id)
                    with lock:
                        processed.append((message.from_user, message_id))
                    time.sleep(0.002)
                    message.status = InboxStatus.DONE

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    ids = [message_id for _, message_id in processed]
    assert len(ids) == 60
    assert len(set(ids)) == 60
    for user in users:
        own = [message_id for sender, message_id in processed if sender == user]
        assert own == sorted(own), f"{user}'s messages ran out of order"
