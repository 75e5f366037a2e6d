"""Approval rules from TOML, and the commands that start quotes, discounts and contracts."""

from decimal import Decimal

import pytest

from bot.understanding import commands as cmd
from models.approval_rules import (
    ApprovalRulesError,
    discount_percent,
    load_approval_rules,
    parse_approval_rules,
)
from models.org import Role

DIRECTOR, FINANCE = Role.REGIONAL_DIRECTOR, Role.FINANCE_HEAD


def test_default_file_matches_defaults():
    rules = load_approval_rules()
    assert rules.contract_chain(Decimal(680000)) == (DIRECTOR, FINANCE)
    assert rules.contract_chain(Decimal(500000)) == (DIRECTOR, FINANCE)
    assert rules.contract_chain(Decimal("499999.99")) == (DIRECTOR,)
    assert rules.free_discount_percent == Decimal(5)
    assert rules.escalate_to == Role.SALES_DIRECTOR


@pytest.mark.parametrize(
    ("price", "list_price", "floor_price", "expected"),
    [
        (Decimal(318), Decimal(330), Decimal(300), False),  # 3.6 % off
        (Decimal("313.5"), Decimal(330), None, False),  # exactly 5 % off
        (Decimal(313), Decimal(330), None, True),  # 5.2 % off
        (Decimal(299), None, Decimal(300), True),  # below the floor, no list price
        (Decimal(299), None, None, False),
    ],
)
def test_price_needs_approval(price, list_price, floor_price, expected):
    assert load_approval_rules().price_needs_approval(price, list_price, floor_price) is expected


def test_discount_percent_rounds():
    assert discount_percent(Decimal(303), Decimal(330)) == Decimal("8.2")
    assert discount_percent(Decimal(340), Decimal(330)) == Decimal("-3.0")


def test_custom_tiers_sorted_by_amount():
    rules = parse_approval_rules(
        """
        [contract]
        tiers = [
            { min_amount = 0, approvers = ["regional_director"] },
            { min_amount = 2000000, approvers = ["regional_director", "finance_head", "sales_director"] },
        ]
        """
    )
    assert rules.contract_chain(Decimal(3000000)) == (DIRECTOR, FINANCE, Role.SALES_DIRECTOR)
    assert rules.contract_chain(Decimal(680000)) == (DIRECTOR,)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[contract]\ntiers = [{ min_amount = 100, approvers = ['finance_head'] }]", "min_amount = 0"),
        ("[contract]\ntiers = [{ min_amount = 0, approvers = ['cashier'] }]", "unknown role 'cashier'"),
        ("[pricing]\nfree_discount_percent = -1", "free_discount_percent must be a number of 0 or more"),
        ("[chase]\nremind_after_hours = 48\nescalate_after_hours = 24", "must be at least 1 and below"),
        ("[pricing]\nfloor = 1", "unknown key pricing.floor"),
        ("[rebates]", "unknown key document.rebates"),
        ("[contract", "invalid TOML"),
    ],
)
def test_invalid_rules_name_the_key(text, message):
    with pytest.raises(ApprovalRulesError, match=message.replace("[", r"\[")):
        parse_approval_rules(text, "rules.toml")


def test_missing_file_names_the_setting(tmp_path):
    with pytest.raises(ApprovalRulesError, match="APPROVAL_RULES_PATH"):
        load_approval_rules(str(tmp_path / "missing.toml"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("给恒达报价 P.O42.5 500吨 单价318", cmd.CreateQuote("恒达", (cmd.QuoteItem("P.O42.5", Decimal(500), "吨", Decimal(318)),))),
        ("报价 恒达", cmd.CreateQuote("恒达")),
        ("申请折扣 恒达 每吨降15元 原因 竞品海螺报价更低", cmd.RequestDiscount("恒达", "竞品海螺报价更低", amount_off=Decimal(15))),
        ("申请折扣 恒达 降到303元 原因 量大", cmd.RequestDiscount("恒达", "量大", new_price=Decimal(303))),
        ("申请折扣 恒达 9.5折 理由:老客户", cmd.RequestDiscount("恒达", "老客户", percent_off=Decimal(5))),
        ("恒达合同 68万 提交审批", cmd.SubmitContract("恒达", Decimal(680000))),
        ("合同 BJ-2026-0001 提交审批", cmd.SubmitContract("BJ-2026-0001")),
        ("提交审批 HT-2026-0001 金额 65万", cmd.Resubmit("HT-2026-0001", Decimal(650000))),
        ("撤回审批 ht-2026-0001", cmd.WithdrawApproval("HT-2026-0001")),
        ("合同已签 HT-2026-0001", cmd.SignContract("HT-2026-0001")),
        ("待审批", cmd.PendingApprovals()),
        ("给恒达报价了,对方嫌贵,下周再谈", None),
        ("撤回", cmd.Undo()),
    ],
)
def test_approval_commands_parse(text, expected):
    assert cmd.parse_command(text) == expected


@pytest.mark.parametrize("text", ["申请折扣 恒达 每吨降15元", "给恒达报价 随便", "恒达合同 很多 提交审批"])
def test_malformed_approval_commands_show_usage(text):
    command = cmd.parse_command(text)
    assert isinstance(command, cmd.Malformed)
    assert command.usage.startswith("用法:")
