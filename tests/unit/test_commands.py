"""The command grammar: which texts are commands, and what they carry."""

import pytest

from bot.understanding.commands import (
    Answer, Correct, CreateCustomer, Help, LookupCustomer, Malformed, MoveStage, MyOpportunities, MyTasks, Undo,
    parse_command,
)
from models.stages import Stage


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("帮助", Help()),
        ("？", Help()),
        ("新建客户 嘉善恒昌建材有限公司 区域 嘉兴 行业 建材批发",
         CreateCustomer("嘉善恒昌建材有限公司", region="嘉兴", industry="建材批发")),
        ("查客户 恒达", LookupCustomer("恒达")),
        ("查客户：恒达", LookupCustomer("恒达")),
        ("我的商机", MyOpportunities()),
        ("我的任务", MyTasks()),
        ("推进 恒达 方案报价", MoveStage("恒达", Stage.QUOTING)),
        ("推进 恒达到合同签订 确认", MoveStage("恒达", Stage.CONTRACTED, confirmed=True)),
        ("推进 宏远 需求确认", MoveStage("宏远", Stage.QUALIFIED)),
        ("推进 宏远 需求确认 确认", MoveStage("宏远", Stage.QUALIFIED, confirmed=True)),
        ("改 金额 90万", Correct("amount", "90万")),
        ("改金额：90万", Correct("amount", "90万")),
        ("改 客户 宏远", Correct("customer", "宏远")),
        ("改 跟进 下周三", Correct("due_date", "下周三")),
        ("改 拜访日期 昨天", Correct("visit_date", "昨天")),
        ("撤销", Undo()),
        ("1", Answer(choice=1)),
        ("（2）", Answer(choice=2)),
        ("取消", Answer(cancel=True)),
        ("确认", Answer(yes=True)),
    ],
)
def test_command_parsed(text, expected):
    assert parse_command(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "今天上午拜访了苏州恒达建材的王经理,对方要采购P.O42.5水泥约五百吨",
        "改天去拜访恒达",
        "查一下HT-2026-0012",
        "新客户:嘉善恒昌建材有限公司,老板姓周",
        "推进得很顺利,恒达下周签合同,今天拜访了王经理,聊了发货安排和回款节奏,对方很满意",
    ],
)
def test_note_is_not_a_command(text):
    assert parse_command(text) is None


@pytest.mark.parametrize("text", ["新建客户", "改 啥", "推进 恒达", "查客户"])
def test_incomplete_command_shows_usage(text):
    command = parse_command(text)
    assert isinstance(command, Malformed)
    assert command.usage.startswith("用法:")
