"""New company names: where a name starts, and names that contain stop words or two legal forms."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.understanding.extract import extract_note
from bot.understanding.lexicon import Lexicon
from tests.conftest import load_world

NOW = datetime(2026, 12, 4, 10, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return Lexicon.from_world(load_world())


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("今天拜访了常州瑞丰新材料有限公司的刘经理,聊了砂浆需求", "常州瑞丰新材料有限公司"),
        ("新客户常州瑞丰泰和建材有限公司,张总,电话13800001111", "常州瑞丰泰和建材有限公司"),
        ("去了一趟无锡天成新型建材有限公司,采购部王经理说下月要500吨", "无锡天成新型建材有限公司"),
        ("上海建工一建集团有限公司的项目部黄工来电话", "上海建工一建集团有限公司"),
        ("顺便去了宜兴同济装饰工程有限公司,见了采购", "宜兴同济装饰工程有限公司"),
    ],
)
def test_new_company_name_whole(lexicon, text, name):
    facts = extract_note(text, NOW, lexicon)
    assert [c.name for c in facts.customers] == [name]
    assert facts.customers[0].is_new


@pytest.mark.parametrize(
    "text",
    [
        "恒达建材王经理问P.O 42.5现在什么价,我报了305元/吨含税到厂",
        "润扬的张总说周末也在厂,可以周六去",
        "宏远建设的李总调去集团了,新负责人还没定",
    ],
)
def test_stop_word_before_suffix_is_no_company(lexicon, text):
    facts = extract_note(text, NOW, lexicon)
    assert not any(c.is_new for c in facts.customers)


def test_price_after_quoted_verb_is_unit_price(lexicon):
    facts = extract_note("跟闽江建工黄经理通了电话,C40要800方,单价报了455,对方嫌贵", NOW, lexicon)
    assert [(p.quantity, p.unit_price) for p in facts.products] == [(800, 455)]
    assert facts.amount == 364000


def test_agreement_talk_is_no_contract(lexicon):
    facts = extract_note("恒达王经理说下周二来厂里看样品,顺便谈一下明年的框架协议", NOW, lexicon)
    assert facts.stage is None or facts.stage.label != "合同签订"
