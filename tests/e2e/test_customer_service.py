"""WeChat customer service end to end: customers write through the emulated kf API, the bot syncs
their messages from its real callback, answers through `kf/send_msg`, and tells reps.

恒达 and 宏远 both belong to zhangwei. 王经理 buys for 恒达, 李总 for 宏远.
"""

import time
from datetime import date, timedelta
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import func, select

from bot.emulator.kf import kf_event_xml
from bot.outbox import enqueue_kf_reply, enqueue_notifications
from handlers.outcome import Text
from handlers.service_followup import chase_overdue_requests
from models.commerce import Contract, Payment, Shipment
from models.crm import Contact, Customer
from models.messages import InboundMessage
from models.org import User
from models.service import (
    ExternalBinding,
    KfLookupFailure,
    KfMessageLog,
    ServiceRequest,
)

HENGDA = "苏州恒达建材有限公司"
HONGYUAN = "无锡宏远建设集团有限公司"
WANG = "wmHengdaWang0001"  # 恒达's buyer
LI = "wmHongyuanLi0001"  # 宏远's buyer
STRANGER = "wmStranger000001"


class Customers:
    """WeChat customers writing to the emulated customer service account."""

    def __init__(self, live_bot, emulator_url: str) -> None:
        self.bot = live_bot
        self.http = httpx.Client(base_url=f"{emulator_url}/emulator/api/kf", timeout=10)
        self._last_create_time = 0

    def sent(self, user: str, after: int = 0) -> list[dict]:
        response = self.http.get("/messages", params={"touser": user, "after": after})
        response.raise_for_status()
        return response.json()["messages"]

    def last_id(self, user: str) -> int:
        sent = self.sent(user)
        return sent[-1]["id"] if sent else 0

    def rejected(self) -> list[dict]:
        return self.http.get("/rejected").json()["sends"]

    def say(self, user: str, text: str, *, send_time: float | None = None) -> list[dict]:
        """Send a customer's text, deliver WeCom's kf callback to the bot, and return the bot's kf replies."""
        after = self.last_id(user)
        response = self.http.post("/customer_message", json={"external_userid": user, "text": text, "send_time": send_time})
        response.raise_for_status()
        body = response.json()
        # NOTE: the callback dedupes events by sender, CreateTime and Event, so each event here
        # gets its own second.
        create_time = max(int(time.time()), self._last_create_time + 1)
        self._last_create_time = create_time
        posted = self.bot.device.post_raw(kf_event_xml(self.bot.settings.wecom_corp_id, body["open_kfid"], body["token"], create_time))
        assert posted.status_code == 200
        self.bot.wait_idle()
        return self.sent(user, after)

    def texts(self, user: str, text: str, **kwargs) -> list[str]:
        return [m["content"] for m in self.say(user, text, **kwargs) if m["msgtype"] == "text"]


@pytest.fixture
def customers(live_bot, emulator):
    client = Customers(live_bot, emulator.url)
    yield client
    client.http.close()


@pytest.fixture
def orders(live_bot, tmp_path) -> dict:
    """Contacts, a signed 恒达 contract with two batches and a payment, and a signed 宏远 contract."""
    contract_file = tmp_path / "HT-2026-0012.pdf"
    contract_file.write_bytes(b"%PDF-1.4 contract")
    with live_bot.db.session() as session:
        zhangwei = session.scalar(select(User).where(User.userid == "zhangwei"))
        hengda = session.scalars(select(Customer).where(Customer.name == HENGDA)).unique().one()
        hongyuan = session.scalars(select(Customer).where(Customer.name == HONGYUAN)).unique().one()
        session.add_all([
            Contact(customer_id=hengda.id, name="王", title="经理"),
            Contact(customer_id=hongyuan.id, name="李", title="总"),
        ])
        ours = Contract(
            number="HT-2026-0012", customer_id=hengda.id, owner_id=zhangwei.id, amount=Decimal("680000"),
            status="signed", signed_on=date(2026, 3, 2), file_path=str(contract_file),
        )
        theirs = Contract(number="HT-2026-0020", customer_id=hongyuan.id, owner_id=zhangwei.id, amount=Decimal("90000"), status="signed")
        session.add_all([ours, theirs])
        session.flush()
        session.add_all([
            Shipment(contract_id=ours.id, batch_no=1, quantity=Decimal("35"), unit="吨", shipped_on=date(2026, 5, 20),
                     vehicle_plate="苏E12345", waybill_no="SF1001"),
            Payment(contract_id=ours.id, customer_id=hengda.id, amount=Decimal("300000"), received_on=date(2026, 3, 10)),
            Payment(contract_id=ours.id, customer_id=hengda.id, amount=Decimal("380000"), planned_on=date(2026, 7, 1)),
        ])
    return {"file": contract_file}


def _bind(live_bot, contact: str, external_userid: str, customer: str = "恒达") -> None:
    [reply] = live_bot.send("zhangwei", f"绑定客户 {customer} {contact} {external_userid}")
    assert reply.startswith("✅ 已把微信客户")


def test_bound_buyer_gets_status(live_bot, customers, orders):
    _bind(live_bot, "王经理", WANG)

    [status] = customers.texts(WANG, "我的货到哪了")
    assert "王经理,您好" in status
    assert "HT-2026-0012" in status
    assert "苏E12345" in status
    assert "HT-2026-0020" not in status

    [detail] = customers.texts(WANG, "查一下ht-2026-0012")
    assert "合同 HT-2026-0012:执行中" in detail
    assert "已付款 30万元,未付 38万元" in detail
    assert "运单号 SF1001" in detail

    [payments] = customers.texts(WANG, "还欠多少钱")
    assert "未付 38万元" in payments

    with live_bot.db.session() as session:
        logs = session.scalars(select(KfMessageLog).where(KfMessageLog.external_userid == WANG)).all()
        assert len(logs) == 3
        assert all(log.first_response_at is not None for log in logs)
        assert all(log.first_response_at >= log.sent_at for log in logs)


def test_contract_file_sent(live_bot, customers, orders):
    _bind(live_bot, "王经理", WANG)

    replies = customers.say(WANG, "发一下合同文件")

    assert [m["msgtype"] for m in replies] == ["text", "file"]
    assert replies[0]["content"] == "合同 HT-2026-0012 的电子版如下。"
    assert replies[1]["content"]["media_id"]


def test_binding_code_binds_once(live_bot, customers, orders):
    [issued] = live_bot.send("zhangwei", "生成绑定码 恒达 王经理")
    assert issued.startswith("绑定码 ")
    code = issued.split()[1].split("(")[0]
    assert len(code) == 6

    [bound] = customers.texts(WANG, f"绑定 {code}")
    assert bound.startswith("绑定成功!王经理,您好,您已绑定「苏州恒达建材有限公司」。")
    notices = live_bot.inspector.messages(touser="zhangwei")
    assert notices[-1]["content"] == f"「{HENGDA}」的王经理已用绑定码绑定微信客服,可以自助查询订单了。"

    [reused] = customers.texts(STRANGER, f"绑定 {code}")
    assert reused.startswith("绑定码无效或已过期")
    with live_bot.db.session() as session:
        assert session.scalar(select(func.count()).select_from(ExternalBinding)) == 1


def test_unbound_person_sees_nothing(live_bot, customers, orders):
    for question in ("我的货到哪了", "查一下HT-2026-0012", "发一下合同文件"):
        [reply] = customers.texts(STRANGER, question)
        assert reply.startswith("您好,这里是")
        assert "绑定 123456" in reply
        assert "HT-2026-0012" not in reply
    assert [m["msgtype"] for m in customers.sent(STRANGER)] == ["text"] * 3


def test_other_company_number_answered_as_unknown(live_bot, customers, orders):
    _bind(live_bot, "李总", LI, customer="宏远")

    [foreign] = customers.texts(LI, "查一下HT-2026-0012")
    [unknown] = customers.texts(LI, "查一下HT-2026-9999")
    assert foreign == "没有查到合同 HT-2026-0012。请核对合同编号,或发「我的货到哪了」查看您公司在执行的合同。"
    assert unknown == foreign.replace("0012", "9999")
    [own] = customers.texts(LI, "我的货到哪了")
    assert "HT-2026-0020" in own
    assert "HT-2026-0012" not in own

    with live_bot.db.session() as session:
        failures = session.scalars(select(KfLookupFailure).order_by(KfLookupFailure.id)).all()
        hengda_contract = session.scalar(select(Contract.id).where(Contract.number == "HT-2026-0012"))
        assert [(f.query, f.found_id) for f in failures] == [("HT-2026-0012", hengda_contract), ("HT-2026-9999", None)]


def test_failed_lookups_are_rate_limited(live_bot, customers, orders):
    _bind(live_bot, "李总", LI, customer="宏远")
    for serial in range(1, 6):
        [reply] = customers.texts(LI, f"HT-2026-900{serial}")
        assert reply.startswith("没有查到合同")

    [blocked] = customers.texts(LI, "HT-2026-0020")
    assert blocked.startswith("查询太频繁了,请 10 分钟后再试。")
    [still_answered] = customers.texts(LI, "我的货到哪了")
    assert "HT-2026-0020" in still_answered


def test_complaint_creates_request_for_rep(live_bot, customers, orders):
    _bind(live_bot, "王经理", WANG)
    year = date.today().year
    number = f"FW-{year}-0001"

    [opened] = customers.texts(WANG, "上次那批卷材破损了,有十几卷不能用")
    assert opened.startswith(f"已为您登记质量问题服务请求 {number}。负责您公司的销售张伟会在 ")
    assert f"查询进度请发「{number}」" in opened

    notice = live_bot.inspector.messages(touser="zhangwei")[-1]["content"]
    assert notice.startswith(f"🛎 客户服务请求 {number}(质量问题)\n客户:「{HENGDA}」王经理")
    assert "内容:上次那批卷材破损了,有十几卷不能用" in notice
    with live_bot.db.session() as session:
        request = session.scalars(select(ServiceRequest)).one()
        assert request.owner_id == session.scalar(select(User.id).where(User.userid == "zhangwei"))
        assert request.respond_by - request.created_at == timedelta(hours=4)

    [status] = customers.texts(WANG, f"{number.lower()} 怎么样了")
    assert status.startswith(f"服务请求 {number}(质量问题)\n状态:处理中")
    assert "负责人:销售张伟" in status


def test_shipment_recorded_from_chat(live_bot, customers, orders):
    [reply] = live_bot.send("zhangwei", "恒达 HT-2026-0012 第二批 35吨 已发车 苏E67890")
    assert reply == "🚚 已记录发货:合同 HT-2026-0012 第2批 35吨,车牌 苏E67890。客户可以在微信客服查到。"
    [wrong] = live_bot.send("zhangwei", "宏远 HT-2026-0012 第三批 10吨 已发车")
    assert wrong == f"没有找到「{HONGYUAN}」的合同 HT-2026-0012。"

    _bind(live_bot, "王经理", WANG)
    [status] = customers.texts(WANG, "我的货到哪了")
    assert "已发货 2 批,共 70吨" in status
    assert "第2批 35吨" in status
    with live_bot.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Shipment)) == 2


def test_five_replies_then_handover(live_bot, customers, orders):
    _bind(live_bot, "王经理", WANG)
    [first] = customers.texts(WANG, "你好")
    assert first.startswith("您好,王经理。您可以这样问我")

    # Five more replies to the same customer message: four fit in WeCom's limit of five.
    with live_bot.db.session() as session:
        inbound_id = session.scalar(select(func.max(InboundMessage.id)).where(InboundMessage.from_user == WANG))
        for index in range(5):
            enqueue_kf_reply(session, "wkZhongshuDemoService", WANG, Text(f"补充说明 {index + 1}"), in_reply_to=inbound_id)
    rep_messages = len(live_bot.inspector.messages(touser="zhangwei"))
    live_bot.wait_idle()
    time.sleep(0.6)  # the sender polls every 0.5 s
    live_bot.wait_idle()

    sent = [m["content"] for m in customers.sent(WANG)]
    assert sent[1:] == ["补充说明 1", "补充说明 2", "补充说明 3", "补充说明 4"]
    assert customers.rejected() == []
    handovers = live_bot.inspector.messages(touser="zhangwei")[rep_messages:]
    assert len(handovers) == 1
    assert handovers[0]["content"].startswith(f"📮 「{HENGDA}」王经理在微信客服的消息无法自动回复(客户上次发消息后已回复满 5 条)")
    assert handovers[0]["content"].endswith("补充说明 5")

    # A new customer message opens a new window.
    [again] = customers.texts(WANG, "我的货到哪了")
    assert "HT-2026-0012" in again


def test_reply_after_48_hours_goes_to_rep(live_bot, customers, orders):
    _bind(live_bot, "王经理", WANG)
    rep_messages = len(live_bot.inspector.messages(touser="zhangwei"))

    replies = customers.say(WANG, "我的货到哪了", send_time=time.time() - 49 * 3600)

    assert replies == []
    assert customers.rejected() == []
    [handover] = live_bot.inspector.messages(touser="zhangwei")[rep_messages:]
    assert "客户最后一条消息已超过 48 小时" in handover["content"]
    assert "HT-2026-0012" in handover["content"]
    with live_bot.db.session() as session:
        log = session.scalars(select(KfMessageLog).where(KfMessageLog.external_userid == WANG)).one()
        assert log.first_response_at is None
        assert log.handed_over_at is not None


def test_overdue_request_chased_then_closed(live_bot, customers, orders):
    _bind(live_bot, "王经理", WANG)
    number = f"FW-{date.today().year}-0001"
    customers.texts(WANG, "上次那批卷材破损了,有十几卷不能用")
    with live_bot.db.session() as session:
        request = session.scalars(select(ServiceRequest)).one()
        respond_by, created = request.respond_by, request.created_at

    with live_bot.db.session() as session:
        assert chase_overdue_requests(session, respond_by - timedelta(minutes=1)) == []
        late = chase_overdue_requests(session, respond_by + timedelta(minutes=1))
        assert [n.recipient for n in late] == ["zhangwei"]
        enqueue_notifications(session, late)
        enqueue_notifications(session, chase_overdue_requests(session, respond_by + timedelta(minutes=16)))
        much_later = chase_overdue_requests(session, respond_by + (respond_by - created))
        assert [n.recipient for n in much_later] == ["zhangwei", "zhaomin"]
        enqueue_notifications(session, much_later)
    live_bot.wait_idle()
    reminders = [m["content"] for m in live_bot.inspector.messages(touser="zhangwei") if number in m["content"]]
    assert sum(text.startswith("⏰") for text in reminders) == 1
    escalations = [m["content"] for m in live_bot.inspector.messages(touser="zhaomin") if number in m["content"]]
    assert len(escalations) == 1

    [refused] = live_bot.send("lina", f"已处理 {number}")
    assert refused == f"服务请求 {number} 不是你负责的,只有负责销售或其总监可以关闭。"
    [closed] = live_bot.send("zhangwei", f"已处理 {number} 已补发15卷")
    assert closed == f"✅ 服务请求 {number} 已标记为已处理,已通过微信客服告知客户。"
    [status] = customers.texts(WANG, number)
    assert "状态:已处理" in status
    with live_bot.db.session() as session:
        assert chase_overdue_requests(session, respond_by + timedelta(days=3)) == []
