"""Tests for extraction rules that were found weak on unseen notes.

Each note here is new: none is taken from the labelled development or holdout notes, so the
tests check that a rule reads the pattern and not one sentence.
"""

from datetime import date, datetime

import pytest

from bot.understanding.dates import SHANGHAI
from bot.understanding.extract import extract_note
from bot.understanding.lexicon import CustomerEntry, Lexicon, ProductEntry
from models.stages import Stage
from tests.unit.test_extract import LEXICON, NOW, customer_names, extract, product

# Wednesday 16 December 2026, 15:00 in Shanghai.
WEDNESDAY = datetime(2026, 12, 16, 15, 0, tzinfo=SHANGHAI)


# -- dates ------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "恒达王经理说年后才开工,到时候再联系",
    "宏远李总说过完年再谈保温板的事",
])
def test_open_start_is_not_due_date(text):
    assert extract(text).due_date is None


def test_open_start_does_not_hide_real_due_date():
    facts = extract("恒达王经理元旦后要砂浆100吨,1月6号送货")
    assert facts.due_date == date(2027, 1, 6)


@pytest.mark.parametrize("text", [
    "越州水利 孙总 13911112222,下周二跟他们孙总见面",
    "长江管桩 何科长 明天下午到我们厂里来看样品",
])
def test_planned_meeting_has_no_visit_date(text):
    facts = extract(text)
    assert facts.visit_date is None
    assert facts.due_date is not None


def test_reported_news_without_date_keeps_visit_date():
    facts = extract("金陵路桥三期预计要C40两万方,月底前能定")
    assert facts.visit_date == NOW.date()


def test_hearsay_with_speaker_is_lead():
    facts = extract("听同行说常州新城在找砌块供应商,还没联系上")
    assert facts.visit_date is None
    assert facts.stage == Stage.LEAD


# -- stage ------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, stage", [
    ("恒达王经理说上个月的货还欠我们9万,下周结清", Stage.FULFILLING),
    ("港城混凝土张部长说这批货有三车不合格", Stage.FULFILLING),
    ("宏远集团合同昨天盖章了", Stage.CONTRACTED),
    ("金陵路桥的合同领导审批通过了,下周开始供货", Stage.CONTRACTED),
    ("越州水利孙总让我们出合同,砂浆500吨", Stage.CONTRACTED),
    ("长江管桩订了两千吨P.O42.5", Stage.CONTRACTED),
    ("常州新城王工那边签了年度协议", Stage.CONTRACTED),
    ("瓯江市政说先付定金再发货,挤塑板2000平米", Stage.CONTRACTED),
    ("恒达王经理让我们周五前提交一个供货方案", Stage.QUOTING),
])
def test_stage_cues(text, stage):
    assert extract(text).stage == stage


def test_customer_winning_own_project_is_not_our_contract():
    facts = extract("瓯江市政郑经理说他们的道路项目中标了,需要C30八千方")
    assert facts.stage == Stage.QUALIFIED


def test_our_bid_won_is_contract():
    facts = extract("港城混凝土的招标结果出来了,我们中标了,P.O42.5 5000吨")
    assert facts.stage == Stage.CONTRACTED


@pytest.mark.parametrize("text", [
    "常州新城的保温板最后选了别家",
    "越州水利的标这次没中",
    "金陵路桥的单子被一家本地厂拿走了",
])
def test_lost_without_named_competitor(text):
    assert extract(text).lost is True


# -- new companies ----------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "瓯江市政郑经理说需要C35商砼六千方",
    "恒达王经理和财务主任一起过来公司对账",
    "越州水利孙总下周二来公司谈合同",
])
def test_phrase_before_company_suffix_is_not_new_company(text):
    assert all(not c.is_new for c in extract(text).customers)


@pytest.mark.parametrize("text, name", [
    ("今天去了宜兴丁蜀鸿运建材厂,老板姓吴", "宜兴丁蜀鸿运建材厂"),
    ("听说有家江阴利港水泥制品厂要用砂浆", "江阴利港水泥制品厂"),
])
def test_new_company_with_factory_suffix(text, name):
    assert name in customer_names(extract(text))


def test_referral_partner_and_referrer_contact_excluded():
    facts = extract("恒达王经理介绍了他们的合作方无锡惠山永安建材有限公司,采购部丁经理,电话0510-83334444")
    assert customer_names(facts) == ["无锡惠山永安建材有限公司"]
    assert [c.name for c in facts.contacts] == ["丁"]
    assert facts.contacts[0].phone == "0510-83334444"
    assert facts.stage == Stage.LEAD


def test_contact_after_referral_source_excluded():
    facts = extract("昆山鑫达建材有限公司的钱总是恒达王经理介绍的,约了下周二见面")
    assert [c.name for c in facts.contacts] == ["钱"]


# -- contacts ---------------------------------------------------------------------------------

def test_untitled_full_name_before_phone():
    facts = extract("港城混凝土 郑海波 135 1234 8888 说C40还要三千方")
    assert [(c.name, c.title, c.phone) for c in facts.contacts] == [("郑海波", None, "13512348888")]


def test_surname_mention_merges_into_full_name():
    facts = extract("见了长江管桩的采购经理何立新,何经理说P.C32.5每月要800吨")
    assert [(c.name, c.title) for c in facts.contacts] == [("何立新", "采购经理")]


def test_owner_wife_title():
    facts = extract("常州新城那边的老板娘姓陆,说砌块先要300方")
    assert [(c.name, c.title) for c in facts.contacts] == [("陆", "老板娘")]


@pytest.mark.parametrize("text", [
    "向李总请示了宏远的价格,可以再降5块",
    "李总同意给宏远申请特价",
])
def test_manager_we_report_to_is_colleague(text):
    assert extract(text).contacts == []


# -- money and measures -----------------------------------------------------------------------

def test_owed_sum_named_after_value_is_payment():
    facts = extract("恒达那笔20万的货款王经理说周五前打过来")
    assert facts.payment_amount == 200000
    assert facts.amount is None


def test_bare_price_after_spaced_label():
    facts = extract("金陵路桥 C40 八千方 单价430 已报价")
    assert product(facts, "C40商品混凝土").unit_price == 430
    assert facts.amount == 3440000


@pytest.mark.parametrize("text, price", [
    ("越州水利孙总定了砂浆600吨,一吨350", 350),
    ("瓯江市政挤塑板4000平米,谈到一平米42块", 42),
])
def test_price_after_per_one_unit(text, price):
    facts = extract(text)
    priced = [p for p in facts.products if p.unit_price is not None]
    assert [p.unit_price for p in priced] == [price]


def test_truckload_quantity_keeps_written_unit():
    facts = extract("港城混凝土反馈昨天送的C30有三车坍落度偏大")
    c30 = product(facts, "C30商品混凝土")
    assert c30.quantity == 3
    assert c30.unit == "车"


# -- products ---------------------------------------------------------------------------------

def test_material_outside_catalog_is_product():
    facts = extract("港城混凝土问我们有没有粉煤灰,每月要3000吨")
    fly_ash = product(facts, "粉煤灰")
    assert fly_ash.product_id is None
    assert fly_ash.quantity == 3000
    assert fly_ash.unit == "吨"


def test_total_over_several_products_not_assigned():
    facts = extract("宏远集团明年C30、C40都要,加起来大概四万方")
    assert all(p.quantity is None for p in facts.products)


def test_alias_without_category_word():
    lexicon = Lexicon(
        [CustomerEntry(0, "扬州润扬商砼有限公司", ("润扬",))],
        [ProductEntry(0, "P.O 42.5普通硅酸盐水泥", ("四二五水泥",), "吨")],
        [], [], {"吨": ["吨"]},
    )
    facts = extract_note("润扬张总说四二五下个月要600吨", WEDNESDAY, lexicon)
    assert [(p.name, p.quantity) for p in facts.products] == [("P.O 42.5普通硅酸盐水泥", 600)]
