"""Approval cards tapped the way a person taps them: the emulator issues real response codes,
and each decision greys out the card for every recipient."""

from sqlalchemy import select

from models.commerce import Contract
from models.messages import OutboundMessage, OutboxStatus
from models.pipeline import Opportunity


def _cards(live_bot, user: str) -> list[dict]:
    return [m["content"] for m in live_bot.inspector.messages(touser=user) if m["msgtype"] == "template_card"]


def _click(live_bot, user: str, task_id: str, key: str) -> None:
    response = live_bot.inspector.click_card(user, task_id, key)
    assert response.status_code == 200, response.text
    assert response.json()["status_code"] == 200
    live_bot.wait_idle()


def test_large_contract_cards_greyed_for_everyone(live_bot):
    [reply] = live_bot.send("zhangwei", "恒达合同 68万 提交审批")
    number = reply[reply.index("HT-"):reply.index("HT-") + 12]

    [director_card] = _cards(live_bot, "zhaomin")
    _click(live_bot, "zhaomin", director_card["task_id"], "approve")
    [finance_card] = _cards(live_bot, "zhoujun")
    _click(live_bot, "zhoujun", finance_card["task_id"], "approve")

    for card in (director_card, finance_card):
        state = live_bot.inspector.card(card["task_id"])
        assert state["updated"] is True
        assert state["replace_name"] == "已同意"
    with live_bot.db.session() as session:
        updates = session.scalars(select(OutboundMessage).where(OutboundMessage.kind == "card_update")).all()
        assert [u.status for u in updates] == [OutboxStatus.SENT, OutboxStatus.SENT]
        assert all(u.errmsg != "sent as text notices" for u in updates)
        contract = session.scalars(select(Contract).where(Contract.number == number)).one()
        assert contract.status == "approved"

    rep_texts = [m["content"] for m in live_bot.inspector.messages(touser="zhangwei") if m["msgtype"] == "text"]
    assert rep_texts[-1].startswith(f"✅ 你提交的合同审批「{number}」已通过")

    [signed] = live_bot.send("zhangwei", f"合同已签 {number}")
    assert "合同签订" in signed
    with live_bot.db.session() as session:
        contract = session.scalars(select(Contract).where(Contract.number == number)).one()
        assert session.get(Opportunity, contract.opportunity_id).stage == "contracted"


def test_second_tap_on_greyed_card_is_refused(live_bot):
    live_bot.send("zhangwei", "恒达合同 30万 提交审批")
    [card] = _cards(live_bot, "zhaomin")
    _click(live_bot, "zhaomin", card["task_id"], "approve")
    again = live_bot.inspector.click_card("zhaomin", card["task_id"], "approve")
    assert again.status_code == 409


def test_non_approver_cannot_tap_card(live_bot):
    live_bot.send("zhangwei", "恒达合同 30万 提交审批")
    [card] = _cards(live_bot, "zhaomin")
    refused = live_bot.inspector.click_card("sunli", card["task_id"], "approve")
    assert refused.status_code == 403
    assert live_bot.inspector.card(card["task_id"])["updated"] is False
