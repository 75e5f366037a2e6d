"""Approval chains through the live callback: cards to approvers, taps as encrypted
template_card_event callbacks, rejection reasons, withdrawal, and chasing."""

import time
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select, update

from handlers.approvals import chase_pending_approvals
from handlers.wording.common import CARD_DECIDED, HELP
from models.approval_rules import ApprovalRules
from models.approvals import ApprovalRequest, ApprovalStep
from models.audit import ChangeRecord
from models.base import utcnow
from models.commerce import Contract, Quote
from models.crm import Customer, Product
from models.messages import OutboundMessage
from models.pipeline import Opportunity

HENGDA = "苏州恒达建材有限公司"  # zhangwei's; his director is zhaomin
CEMENT = "P.O 42.5普通硅酸盐水泥"


def _set_prices(db, list_price: int = 330, floor_price: int = 300) -> None:
    with db.session() as session:
        session.execute(update(Product).where(Product.name == CEMENT).values(list_price=list_price, floor_price=floor_price))


def _cards(live_bot, user: str, after: int = 0) -> list[dict]:
    messages = live_bot.inspector.messages(touser=user, after=after)
    return [m["content"] for m in messages if m["msgtype"] == "template_card"]


def _texts(live_bot, user: str, after: int = 0) -> list[str]:
    return [m["content"] for m in live_bot.inspector.messages(touser=user, after=after) if m["msgtype"] == "text"]


def _tap(live_bot, user: str, task_id: str, key: str, code: str, create_time: int | None = None) -> list[str]:
    """Tap a card button as `user` and return the texts the bot sent to `user` afterwards.

    The emulator did not issue the test codes, so the sender may fall back to a text notice of
    the decision. Those notices are left out here.
    """
    after = live_bot.last_message_id(user)
    response = live_bot.device.send_event(
        user, "template_card_event", create_time=create_time, TaskId=task_id, EventKey=key,
        CardType="button_interaction", ResponseCode=code,
    )
    assert response.status_code == 200, response.text
    live_bot.wait_idle()
    decided = CARD_DECIDED.split("{")[0]
    return [text for text in _texts(live_bot, user, after) if not text.startswith(decided)]


def _card_updates(db) -> list[tuple[str, str, str | None]]:
    """Return (task_id, label, response_code) of every stored card update, oldest first."""
    with db.session() as session:
        rows = session.scalars(
            select(OutboundMessage).where(OutboundMessage.kind == "card_update").order_by(OutboundMessage.id)
        ).all()
        return [(r.payload["task_id"], r.payload["label"], r.payload["response_code"]) for r in rows]


def _steps(db, number: str) -> list[tuple[str, str]]:
    """Return (approver userid, status) of each step of the latest request for `number`."""
    with db.session() as session:
        request = session.scalars(
            select(ApprovalRequest).where(ApprovalRequest.subject_number == number).order_by(ApprovalRequest.id.desc())
        ).first()
        return [(step.approver.userid, step.status) for step in request.steps]


def _contract(db, number: str) -> Contract:
    with db.session() as session:
        return session.scalars(select(Contract).where(Contract.number == number)).one()


def _number(reply: str, prefix: str) -> str:
    start = reply.index(f"{prefix}-")
    return reply[start:start + 12]


def test_large_contract_goes_director_then_finance(live_bot):
    [reply] = live_bot.send("zhangwei", "恒达合同 68万 提交审批")
    number = _number(reply, "HT")
    assert "已提交赵敏→周军审批" in reply

    [director_card] = _cards(live_bot, "zhaomin")
    assert director_card["card_type"] == "button_interaction"
    assert director_card["main_title"]["title"] == f"合同审批 {number}"
    assert {"keyname": "合同金额", "value": "68万元"} in director_card["horizontal_content_list"]
    assert [b["key"] for b in director_card["button_list"]] == ["approve", "reject"]
    assert _cards(live_bot, "zhoujun") == []

    [approved] = _tap(live_bot, "zhaomin", director_card["task_id"], "approve", "code-zhaomin")
    assert approved == f"✅ 你已同意合同审批「{number}」,已转周军审批。"
    [finance_card] = _cards(live_bot, "zhoujun")
    assert finance_card["main_title"]["desc"] == "张伟提交,第 2/2 步,赵敏已同意"
    assert _steps(live_bot.db, number) == [("zhaomin", "approved"), ("zhoujun", "pending")]

    [done] = _tap(live_bot, "zhoujun", finance_card["task_id"], "approve", "code-zhoujun")
    assert "审批通过,已告知张伟" in done
    assert _card_updates(live_bot.db) == [
        (director_card["task_id"], "已同意", "code-zhaomin"),
        (finance_card["task_id"], "已同意", "code-zhoujun"),
    ]
    notices = _texts(live_bot, "zhangwei")
    assert notices[-2] == f"你提交的合同审批「{number}」:赵敏已同意,已转周军审批。"
    assert notices[-1].startswith(f"✅ 你提交的合同审批「{number}」已通过")
    assert f"合同已签 {number}" in notices[-1]
    assert _contract(live_bot.db, number).status == "approved"

    [signed] = live_bot.send("zhangwei", f"合同已签 {number}")
    assert "已进入「合同签订」阶段" in signed
    contract = _contract(live_bot.db, number)
    assert contract.status == "signed"
    with live_bot.db.session() as session:
        assert session.get(Opportunity, contract.opportunity_id).stage == "contracted"
        labels = set(session.scalars(select(ChangeRecord.batch_label)))
    assert {"contract", "approval_decide", "contract_sign"} <= labels


def test_small_contract_needs_director_only(live_bot):
    [reply] = live_bot.send("zhangwei", "恒达合同 30万 提交审批")
    number = _number(reply, "HT")
    assert "已提交赵敏审批" in reply
    assert _steps(live_bot.db, number) == [("zhaomin", "pending")]
    [refused] = live_bot.send("zhangwei", f"合同已签 {number}")
    assert "审批通过后才能登记签订" in refused


def test_rejected_discount_tells_rep_the_reason(live_bot):
    _set_prices(live_bot.db)
    [quoted] = live_bot.send("zhangwei", "给恒达报价 P.O42.5 500吨 单价318")
    number = _number(quoted, "BJ")
    [asked] = live_bot.send("zhangwei", "申请折扣 恒达 每吨降15元 原因 竞品海螺报价更低")
    assert "318元 → 303元" in asked
    assert "已提交赵敏审批" in asked

    [card] = _cards(live_bot, "zhaomin")
    assert card["main_title"]["title"] == f"折扣审批 {number}"
    assert {"keyname": "申请原因", "value": "竞品海螺报价更低"} in card["horizontal_content_list"]

    [question] = _tap(live_bot, "zhaomin", card["task_id"], "reject", "code-reject")
    assert question.startswith(f"请直接回复驳回「{number}」的原因")
    assert _card_updates(live_bot.db) == []
    rejected = live_bot.send("zhaomin", "价格已到底线,不能再降")[0]
    assert rejected == f"已驳回折扣审批「{number}」,原因已告知张伟。"

    notice = _texts(live_bot, "zhangwei")[-1]
    assert notice.startswith(f"❌ 你提交的折扣审批「{number}」被赵敏驳回。")
    assert "原因:价格已到底线,不能再降" in notice
    assert _card_updates(live_bot.db) == [(card["task_id"], "已驳回", "code-reject")]
    with live_bot.db.session() as session:
        quote = session.scalars(select(Quote).where(Quote.number == number)).one()
        assert quote.lines[0].unit_price == Decimal("318.00")
        step = session.scalars(select(ApprovalStep)).one()
        assert step.comment == "价格已到底线,不能再降"

    # The reason is taken once; the director's next text is an ordinary message again.
    [help_text] = live_bot.send("zhaomin", "帮助")
    assert help_text == HELP


def test_rejection_can_be_cancelled(live_bot):
    [reply] = live_bot.send("zhangwei", "恒达合同 30万 提交审批")
    number = _number(reply, "HT")
    [card] = _cards(live_bot, "zhaomin")
    _tap(live_bot, "zhaomin", card["task_id"], "reject", "code-1")
    [cancelled] = live_bot.send("zhaomin", "取消")
    assert "不驳回了" in cancelled
    assert _steps(live_bot.db, number) == [("zhaomin", "pending")]
    [approved] = _tap(live_bot, "zhaomin", card["task_id"], "approve", "code-2")
    assert "审批通过" in approved


def test_non_approver_tap_changes_nothing(live_bot):
    [reply] = live_bot.send("zhangwei", "恒达合同 68万 提交审批")
    number = _number(reply, "HT")
    [card] = _cards(live_bot, "zhaomin")
    for outsider in ("lina", "zhangwei", "zhoujun"):
        [refused] = _tap(live_bot, outsider, card["task_id"], "approve", f"code-{outsider}")
        assert refused == "这张审批卡片不是发给你的,你的操作没有生效。"
    assert _steps(live_bot.db, number) == [("zhaomin", "pending"), ("zhoujun", "waiting")]
    assert _card_updates(live_bot.db) == []
    assert _cards(live_bot, "zhoujun") == []


def test_double_tap_and_retried_event_are_idempotent(live_bot):
    [reply] = live_bot.send("zhangwei", "恒达合同 68万 提交审批")
    number = _number(reply, "HT")
    [card] = _cards(live_bot, "zhaomin")
    first = int(time.time())
    _tap(live_bot, "zhaomin", card["task_id"], "approve", "code-a", create_time=first)
    # WeCom retries a callback with the same fields; the inbox stores it once.
    assert _tap(live_bot, "zhaomin", card["task_id"], "approve", "code-a", create_time=first) == []
    [again] = _tap(live_bot, "zhaomin", card["task_id"], "approve", "code-b", create_time=first + 1)
    assert again == f"你已经同意过「{number}」,这次点击没有改动。"
    [late_reject] = _tap(live_bot, "zhaomin", card["task_id"], "reject", "code-c", create_time=first + 2)
    assert "没有改动" in late_reject

    assert _steps(live_bot.db, number) == [("zhaomin", "approved"), ("zhoujun", "pending")]
    assert len(_cards(live_bot, "zhoujun")) == 1
    assert _card_updates(live_bot.db) == [(card["task_id"], "已同意", "code-a")]


def test_withdraw_then_resubmit(live_bot):
    [reply] = live_bot.send("zhangwei", "恒达合同 30万 提交审批")
    number = _number(reply, "HT")
    [old_card] = _cards(live_bot, "zhaomin")

    [withdrawn] = live_bot.send("zhangwei", f"撤回审批 {number}")
    assert withdrawn.startswith(f"已撤回合同审批「{number}」")
    assert _contract(live_bot.db, number).status == "draft"
    assert _card_updates(live_bot.db) == [(old_card["task_id"], "已撤回", None)]
    assert CARD_DECIDED.format(label="已撤回") in _texts(live_bot, "zhaomin")
    [late] = _tap(live_bot, "zhaomin", old_card["task_id"], "approve", "code-late")
    assert late == f"合同审批「{number}」已撤回,不需要处理了。"
    [again] = live_bot.send("zhangwei", f"撤回审批 {number}")
    assert "没有审批中的申请" in again

    [resubmitted] = live_bot.send("zhangwei", f"提交审批 {number} 金额 28万")
    assert f"合同 {number} 已重新提交" in resubmitted
    assert "28万元" in resubmitted
    cards = _cards(live_bot, "zhaomin")
    assert len(cards) == 2
    assert cards[-1]["task_id"] != old_card["task_id"]
    assert _tap(live_bot, "zhaomin", cards[-1]["task_id"], "approve", "code-new")[0].endswith("已告知张伟。")
    contract = _contract(live_bot.db, number)
    assert contract.status == "approved"
    assert contract.amount == Decimal("280000.00")


def test_only_requester_may_withdraw(live_bot):
    [reply] = live_bot.send("zhangwei", "恒达合同 30万 提交审批")
    number = _number(reply, "HT")
    [refused] = live_bot.send("zhaomin", f"撤回审批 {number}")
    assert refused == f"「{number}」的审批是张伟提交的,只有提交人可以撤回。"
    assert _steps(live_bot.db, number) == [("zhaomin", "pending")]


def test_pending_list_for_approver(live_bot):
    [reply] = live_bot.send("zhangwei", "恒达合同 30万 提交审批")
    number = _number(reply, "HT")
    [listing] = live_bot.send("zhaomin", "待审批")
    assert f"合同 {number}(张伟提交" in listing
    [empty] = live_bot.send("zhoujun", "待审批")
    assert empty == "你现在没有待审批的申请。"


def test_chase_reminds_then_escalates_once(live_bot):
    [reply] = live_bot.send("zhangwei", "恒达合同 30万 提交审批")
    number = _number(reply, "HT")
    rules = ApprovalRules(remind_after_hours=24, escalate_after_hours=48)
    sent_at = utcnow()

    with live_bot.db.session() as session:
        assert chase_pending_approvals(session, sent_at + timedelta(hours=23), rules) == []
    with live_bot.db.session() as session:
        [reminder] = chase_pending_approvals(session, sent_at + timedelta(hours=25), rules)
    assert reminder.recipient == "zhaomin"
    assert reminder.reply.text.startswith(f"⏰ 催办:张伟提交的合同审批「{number}」")
    with live_bot.db.session() as session:
        assert chase_pending_approvals(session, sent_at + timedelta(hours=26), rules) == []
    with live_bot.db.session() as session:
        escalations = chase_pending_approvals(session, sent_at + timedelta(hours=49), rules)
    assert [n.recipient for n in escalations] == ["lizong", "zhangwei"]
    assert "已等赵敏超过 48 小时未处理" in escalations[0].reply.text
    with live_bot.db.session() as session:
        assert chase_pending_approvals(session, sent_at + timedelta(hours=72), rules) == []
        customer = session.scalars(select(Customer).where(Customer.name == HENGDA)).unique().one()
        assert customer.owner.userid == "zhangwei"
