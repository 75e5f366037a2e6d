"""Tests for visit-note extraction on notes written for these tests.

The notes vary phrasing, customers, products, number forms and dates so that the rules are
checked beyond the labelled development notes.
"""

import json
from datetime import date, datetime
from pathlib import Path

import pytest

from bot.understanding.dates import SHANGHAI
from bot.understanding.extract import extract_note
from bot.understanding.lexicon import CustomerEntry, Lexicon, ProductEntry, UserEntry
from models.stages import Stage

WORLD_PATH = Path(__file__).resolve().parents[2].parent / "shared/data/world.json"

# Friday 4 December 2026, 10:00 in Shanghai.
NOW = datetime(2026, 12, 4, 10, 0, tzinfo=SHANGHAI)

UNITS = {
    "吨": ["吨", "t", "T"], "方": ["方", "立方", "立方米", "m3"],
    "平方米": ["平方米", "平米", "平方", "平", "m2"], "张": ["张"], "卷": ["卷"], "块": ["块"],
}


def build_lexicon() -> Lexicon:
    """A small company of our own, so that the tests do not depend on the shared sample."""
    customers = [
        CustomerEntry(0, "苏州恒达建材有限公司", ("恒达", "苏州恒达", "恒达建材")),
        CustomerEntry(1, "无锡宏远建设集团有限公司", ("宏远", "宏远建设", "宏远集团")),
        CustomerEntry(2, "宁波港城混凝土有限公司", ("港城混凝土", "宁波港城")),
        CustomerEntry(3, "南京金陵路桥工程有限公司", ("金陵路桥",)),
        CustomerEntry(4, "绍兴越州水利工程有限公司", ("越州水利",)),
        CustomerEntry(5, "常州新城建筑安装有限公司", ("常州新城", "新城建安")),
        CustomerEntry(6, "温州瓯江市政工程有限公司", ("瓯江市政",)),
        CustomerEntry(7, "芜湖长江管桩有限公司", ("长江管桩", "芜湖管桩")),
    ]
    products = [
        ProductEntry(0, "P.O 42.5普通硅酸盐水泥", ("P.O42.5", "PO42.5", "P.O 42.5", "42.5水泥"), "吨"),
        ProductEntry(1, "P.C 32.5复合硅酸盐水泥", ("P.C32.5", "PC32.5", "P.C 32.5"), "吨"),
        ProductEntry(2, "C30商品混凝土", ("C30", "C30混凝土"), "方"),
        ProductEntry(3, "C40商品混凝土", ("C40", "C40混凝土"), "方"),
        ProductEntry(4, "纸面石膏板9.5mm", ("石膏板", "9.5石膏板"), "张"),
        ProductEntry(5, "SBS改性沥青防水卷材", ("SBS卷材", "防水卷材", "SBS"), "平方米"),
        ProductEntry(6, "XPS挤塑保温板", ("挤塑板", "XPS板", "保温板"), "平方米"),
        ProductEntry(7, "干混砂浆", ("砂浆", "干粉砂浆"), "吨"),
        ProductEntry(8, "加气混凝土砌块", ("加气块", "砌块"), "方"),
    ]
    users = [
        UserEntry("zhangwei", "张伟", "苏南大区"),
        UserEntry("wuhao", "吴昊", "技术部"),
        UserEntry("lizong", "李建国", "销售中心"),
    ]
    return Lexicon(customers, products, ["海螺", "华新", "南方水泥", "金隅", "东方雨虹"], users, UNITS,
                   company_name="华东示例建材股份有限公司")


LEXICON = build_lexicon()


def extract(text: str):
    return extract_note(text, NOW, LEXICON)


def customer_names(facts):
    return [c.name for c in facts.customers]


def product(facts, name):
    matches = [p for p in facts.products if p.name == name]
    assert matches, f"{name} not in {[p.name for p in facts.products]}"
    return matches[0]


# -- customers --------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("今天去恒达建材拜访了王经理", "苏州恒达建材有限公司"),
    ("港城那边林工说保温板收到了", "宁波港城混凝土有限公司"),
    ("越洲水利孙总说标书下周一递交", "绍兴越州水利工程有限公司"),
    ("金陵路侨的张经理来电话了", "南京金陵路桥工程有限公司"),
    ("港城混泥土张部长说要降价", "宁波港城混凝土有限公司"),
    ("芜湖管桩问P.O42.5的价格", "芜湖长江管桩有限公司"),
    ("宁波港城混凝土有限公司的采购来电", "宁波港城混凝土有限公司"),
])
def test_customer_by_alias_abbreviation_or_typo(text, expected):
    facts = extract(text)
    assert customer_names(facts) == [expected]
    assert facts.customers[0].customer_id is not None
    assert not facts.customers[0].is_new


def test_new_company_with_legal_suffix():
    facts = extract("拜访了杭州绿城建设有限公司的陈总,电话0571-88886666,对方有意向")
    assert customer_names(facts) == ["杭州绿城建设有限公司"]
    assert facts.customers[0].is_new
    assert facts.customers[0].customer_id is None


def test_new_company_not_mistaken_for_near_alias():
    facts = extract("新客户:嘉善恒昌建材有限公司,老板姓周")
    assert customer_names(facts) == ["嘉善恒昌建材有限公司"]
    assert facts.customers[0].is_new


def test_new_company_with_trade_suffix():
    facts = extract("新客户 常熟华丰建材, 联系人赵丽 13988887777, 做商砼的")
    assert customer_names(facts) == ["常熟华丰建材"]
    assert facts.contacts[0].name == "赵丽"
    assert facts.contacts[0].phone == "13988887777"


def test_referral_source_is_not_customer():
    facts = extract("通过恒达王经理介绍认识了昆山鑫达建材有限公司的钱总,下周二去拜访")
    assert customer_names(facts) == ["昆山鑫达建材有限公司"]


def test_own_company_is_not_customer():
    facts = extract("跟华东示例建材的李总一起拜访了宏远,宏远李总说砂浆要八百吨")
    assert customer_names(facts) == ["无锡宏远建设集团有限公司"]


def test_district_word_is_not_abbreviation():
    facts = extract("他们新城区的项目还在规划")
    assert facts.customers == []


def test_ambiguous_abbreviation_lists_candidates():
    lexicon = Lexicon(
        [CustomerEntry("a", "苏州恒达建材有限公司"), CustomerEntry("b", "南京恒达建设有限公司")],
        [], [], [], UNITS,
    )
    facts = extract_note("恒达王经理说下周要货", NOW, lexicon)
    assert len(facts.customers) == 1
    assert facts.customers[0].customer_id is None
    assert facts.customers[0].candidates == ("a", "b")


def test_several_customers_in_order():
    facts = extract("今天跑了三家:越州水利孙总在走招标;瓯江市政郑经理对挤塑板有兴趣;恒达没见到人")
    assert customer_names(facts) == [
        "绍兴越州水利工程有限公司", "温州瓯江市政工程有限公司", "苏州恒达建材有限公司",
    ]


def test_note_without_customer():
    facts = extract("今天在公司开会,没有出去")
    assert facts.customers == []
    assert facts.visit_date is None
    assert facts.stage is None
    assert facts.products == []


# -- contacts ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text, name, title", [
    ("恒达王经理说下周要货", "王", "经理"),
    ("宏远李总说价格偏高", "李", "总"),
    ("港城 林工 反馈 保温板厚度不够", "林", "工"),
    ("宏远建设的负责人换成了钱立明经理了", "钱立明", "经理"),
    ("金陵路桥的采购经理叫吴海燕,电话13800001111", "吴海燕", "采购经理"),
    ("长江管桩新来的采购总监姓郭", "郭", "采购总监"),
    ("港城技术部的小林说样品收到了", "林", None),
    ("金陵路桥,见了他们的项目经理周强", "周强", "项目经理"),
])
def test_contact_name_and_title(text, name, title):
    facts = extract(text)
    assert [(c.name, c.title) for c in facts.contacts] == [(name, title)]


def test_colleague_is_not_contact():
    facts = extract("长江管桩问能不能供P.O52.5,我说回去问下技术部吴工,周一前回复")
    assert facts.contacts == []


def test_former_contact_is_dropped():
    facts = extract("宏远建设的新负责人是钱立明经理,之前的李总调去集团了")
    assert [c.name for c in facts.contacts] == ["钱立明"]


def test_construction_word_is_not_person():
    facts = extract("宏远那边施工进度慢了")
    assert facts.contacts == []


@pytest.mark.parametrize("text, phone", [
    ("恒达王经理电话13912345678", "13912345678"),
    ("恒达王经理手机 139-1234-5678", "13912345678"),
    ("恒达王经理 186 2345 6789", "18623456789"),
    ("金陵路桥张经理座机 025-84561234", "025-84561234"),
    ("闽江那边采购经理叫林海,电话0591 87654321", "0591-87654321"),
])
def test_phone_digits_and_landline_area_code(text, phone):
    facts = extract(text)
    assert facts.contacts[0].phone == phone


def test_contact_customer_is_nearest_before():
    facts = extract("越州水利孙总说要招标;瓯江市政郑经理对挤塑板有兴趣")
    owners = {c.name: c.customer_name for c in facts.contacts}
    assert owners == {"孙": "绍兴越州水利工程有限公司", "郑": "温州瓯江市政工程有限公司"}


# -- products, quantities and prices ----------------------------------------------------------

@pytest.mark.parametrize("text, name, quantity, unit", [
    ("恒达要P.O42.5约五百吨", "P.O 42.5普通硅酸盐水泥", 500, "吨"),
    ("芜湖管桩明年要P.O42.5三四百吨", "P.O 42.5普通硅酸盐水泥", 350, "吨"),
    ("宏远那边C30需要1.2万方", "C30商品混凝土", 12000, "方"),
    ("港城要5000平米XPS板", "XPS挤塑保温板", 5000, "平方米"),
    ("恒达建材的吴经理说砂浆大概200t", "干混砂浆", 200, "吨"),
    ("越州水利的防水卷材有200卷破损", "SBS改性沥青防水卷材", 200, "卷"),
    ("芜湖长江管桩要了5k吨P.O42.5", "P.O 42.5普通硅酸盐水泥", 5000, "吨"),
    ("宏远 C30 3000方", "C30商品混凝土", 3000, "方"),
    ("新城建安加气块要两三万方", "加气混凝土砌块", 25000, "方"),
    ("港城 XPS板 厚度不够,大概 1200 平方", "XPS挤塑保温板", 1200, "平方米"),
])
def test_product_quantity_and_unit(text, name, quantity, unit):
    fact = product(extract(text), name)
    assert fact.quantity == quantity
    assert fact.unit == unit


def test_quantity_change_keeps_new_value():
    facts = extract("恒达王经理微信说石膏板改成6万张,原来是5万张")
    assert product(facts, "纸面石膏板9.5mm").quantity == 60000


def test_product_outside_catalog_keeps_spelling():
    facts = extract("长江管桩问能不能供P.O52.5,需要每月800吨")
    fact = product(facts, "P.O52.5")
    assert fact.product_id is None
    assert fact.quantity == 800


def test_unit_price_and_amount_from_quantity():
    facts = extract("常州新城王工 加气块800方 单价260元/方 已报价")
    fact = product(facts, "加气混凝土砌块")
    assert fact.unit_price == 260
    assert facts.amount == 208000


@pytest.mark.parametrize("text, price", [
    ("恒达 王经理 问 P.O 42.5 什么价,我报了 305元/吨", 305),
    ("宏远李总说砂浆价格按每吨280元算", 280),
    ("港城C40单价420一方", 420),
    ("芜湖长江管桩要P.O42.5, 单价300", 300),
])
def test_unit_price_forms(text, price):
    facts = extract(text)
    assert facts.products[0].unit_price == price


def test_price_difference_is_no_price():
    facts = extract("恒达王经理说P.O42.5每吨再降15元就考虑")
    assert facts.products[0].unit_price is None
    assert facts.amount is None


def test_competitor_price_is_no_price():
    facts = extract("宏远李总说海螺报了280元/吨的P.O42.5")
    assert facts.products[0].unit_price is None
    assert facts.competitors == ["海螺"]


def test_grade_number_is_not_quantity():
    facts = extract("恒达要P.O 42.5和9.5石膏板")
    assert all(p.quantity is None for p in facts.products)
    assert facts.due_date is None


# -- money ------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, amount", [
    ("恒达的项目预算八十万左右", 800000),
    ("宏远合同签了,合同额156.8万元", 1568000),
    ("瓯江市政标书递交了,投标总价187.5万", 1875000),
    ("禾城周总说预算壹佰贰拾万元整", 1200000),
    ("越州水利确认下单,合同总价18.6万", 186000),
    ("港城的单子报价80w", 800000),
])
def test_deal_amount(text, amount):
    assert extract(text).amount == amount


@pytest.mark.parametrize("text, payment", [
    ("恒达回款35万已到账,剩余尾款12万下个月10号前付清", 350000),
    ("瓯江市政回款80w已到账,还剩20w下个月15号前付", 800000),
    ("宏远的款还差 23.6 万没回", 236000),
    ("港城张总说明天打款58万", 580000),
    ("金陵路桥合同金额528万,首付款30%月底前到账", 1584000),
    ("长江管桩打款了,30万,已经收到", 300000),
])
def test_payment_amount(text, payment):
    facts = extract(text)
    assert facts.payment_amount == payment


def test_payment_is_not_amount():
    facts = extract("恒达回款35万已到账")
    assert facts.amount is None


def test_price_gap_is_not_amount():
    facts = extract("常州新城的单子丢了,对方选了金隅,价格比我们低8%")
    assert facts.amount is None
    assert facts.lost
    assert facts.competitors == ["金隅"]


# -- dates ------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, visit, due", [
    ("今天上午拜访了恒达王经理,下周三前给他们报价", date(2026, 12, 4), date(2026, 12, 9)),
    ("昨天下午去港城拜访了张部长", date(2026, 12, 3), None),
    ("上周五去恒达建材拜访了王经理", date(2026, 11, 27), None),
    ("明天上午9点去拜访宏远的李总", None, date(2026, 12, 5)),
    ("下周三下午去常州新城找王工谈砌块的事", None, date(2026, 12, 9)),
    ("听说宏远那边有个新项目要用大量砂浆,还没联系上", None, None),
    ("金陵路桥的张经理说月底前给答复", date(2026, 12, 4), date(2026, 12, 31)),
    ("宏远李总约我们下下周三去现场", date(2026, 12, 4), date(2026, 12, 16)),
    ("宏远李总说价格下周中再谈", date(2026, 12, 4), date(2026, 12, 9)),
    ("港城张部长希望我们1月15号前出报价", date(2026, 12, 4), date(2027, 1, 15)),
    ("闽江那边黄经理让我今天下班前给个准话", None, date(2026, 12, 4)),
])
def test_visit_and_due_dates(text, visit, due):
    facts = extract(text)
    if facts.customers:
        assert facts.visit_date == visit
    assert facts.due_date == due


def test_next_action_is_words_after_due_date():
    facts = extract("今天拜访了恒达王经理,下周三前给他们报价")
    assert facts.next_action == "给他们报价"


def test_correction_has_no_visit_date():
    facts = extract("更正:宏远李总的电话是13700001111")
    assert facts.visit_date is None
    assert facts.contacts[0].phone == "13700001111"


# -- stage, loss, reach and kind -------------------------------------------------------------

@pytest.mark.parametrize("text, stage", [
    ("听说宏远要用大量C30,先登记个线索", Stage.LEAD),
    ("初次见面,向恒达介绍了我们的石膏板", Stage.CONTACTED),
    ("港城张总说明年C30需要3000方", Stage.QUALIFIED),
    ("宏远李总说目前在比价", Stage.QUOTING),
    ("港城张部长说C30每方再降10元就可以签", Stage.QUOTING),
    ("金陵路桥合同签了!C40混凝土1.2万方", Stage.CONTRACTED),
    ("恒达王经理确认下单,下周四发货", Stage.CONTRACTED),
    ("金陵路桥合同金额528万,首付款30%月底前到账", Stage.CONTRACTED),
    ("恒达王经理说第一批500吨已经收到了", Stage.FULFILLING),
    ("港城林工反馈上周到的保温板有破损,要求退货", Stage.FULFILLING),
])
def test_stage_cues(text, stage):
    assert extract(text).stage == stage


def test_stage_none_when_customers_differ():
    facts = extract("恒达合同签了;宏远还在比价")
    assert facts.stage is None


def test_lost_with_reason():
    facts = extract("常州新城的单子黄了,给了东方雨虹")
    assert facts.lost
    assert facts.competitors == ["东方雨虹"]


def test_current_supplier_is_not_lost():
    facts = extract("长江管桩年用量大概6万吨,目前主要用海螺的")
    assert not facts.lost
    assert facts.competitors == ["海螺"]


def test_not_reached_call():
    facts = extract("电话联系宏远,李总没接,明天再打")
    assert facts.reached is False
    assert facts.activity_kind == "call"
    assert facts.due_date == date(2026, 12, 5)


@pytest.mark.parametrize("text, kind", [
    ("今天拜访了恒达王经理", "visit"),
    ("电话跟进宏远李总", "call"),
    ("恒达王经理微信说收到了", "wechat"),
    ("恒达王经理电话13912345678,说下周要货", "other"),
])
def test_activity_kind(text, kind):
    assert extract(text).activity_kind == kind


# -- the shared sample company ------------------------------------------------------------------

@pytest.mark.skipif(not WORLD_PATH.exists(), reason=f"sample company not found at {WORLD_PATH}")
def test_sample_company_lexicon_extracts():
    lexicon = Lexicon.from_world(json.loads(WORLD_PATH.read_text(encoding="utf-8")))
    facts = extract_note("禾城那边周总说加气块要两三万方,预算壹佰贰拾万元整", NOW, lexicon)
    assert [c.name for c in facts.customers] == ["嘉兴禾城建材贸易有限公司"]
    assert facts.products[0].quantity == 25000
    assert facts.amount == 1200000
