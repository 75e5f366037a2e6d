"""Table-driven tests for number, quantity and money parsing in visit notes."""

import pytest

from bot.understanding.numbers import find_money, find_numbers, parse_number

PARSE_CASES = [
    ("五百", 500),
    ("1.2万", 12000),
    ("八十万", 800000),
    ("156.8万", 1568000),
    ("3000", 3000),
    ("两万", 20000),
    ("三万", 30000),
    ("1,200", 1200),
    ("1,234.5", 1234.5),
    ("壹佰贰拾万元整", 1200000),
    ("壹仟零伍拾元", 1050),
    ("伍万元", 50000),
    ("壹佰元伍角", 100.5),
    ("叁拾元零伍分", 30.05),
    ("贰万元整", 20000),
    ("5000元", 5000),
    ("5w", 50000),
    ("5W", 50000),
    ("8k", 8000),
    ("3K", 3000),
    ("一百二十万", 1200000),
    ("2亿", 200000000),
    ("十五", 15),
    ("十", 10),
    ("两千五百", 2500),
    ("23.6 万", 236000),
    ("一点五万", 15000),
    ("三点二", 3.2),
    ("八千万", 80000000),
]


@pytest.mark.parametrize(("text", "expected"), PARSE_CASES)
def test_parse_number_value(text, expected):
    assert parse_number(text) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["三四百", "300-400", "", "abc", "统一", "P.O42.5", "万"])
def test_parse_number_rejects(text):
    assert parse_number(text) is None


# (text, [(mention text, value, unit), ...]) for the whole text.
FIND_CASES = [
    ("约五百吨", [("五百吨", 500, "吨")]),
    ("预算八十万左右", [("八十万", 800000, None)]),
    ("需求大概两万张", [("两万张", 20000, "张")]),
    ("C40混凝土1.2万方", [("1.2万方", 12000, "方")]),
    ("合同额156.8万元", [("156.8万元", 1568000, "元")]),
    ("还差 23.6 万没回", [("23.6 万", 236000, None)]),
    ("首付款30%月底前到账", [("30%", 30, "%")]),
    ("百分之三十", [("百分之三十", 30, "%")]),
    ("比我们低8％", [("8％", 8, "%")]),
    ("1,200平方米", [("1,200平方米", 1200, "平方米")]),
    ("大概 1200 平方", [("1200 平方", 1200, "平方")]),
    ("挤塑板5万平米", [("5万平米", 50000, "平米")]),
    ("200卷破损", [("200卷", 200, "卷")]),
    ("3000方左右", [("3000方", 3000, "方")]),
    ("需要800立方", [("800立方", 800, "立方")]),
    ("预算5w", [("5w", 50000, None)]),
    ("8k的货", [("8k", 8000, None)]),
    ("金额估计一百二十万", [("一百二十万", 1200000, None)]),
    ("投资2亿", [("2亿", 200000000, None)]),
    ("壹佰贰拾万元整", [("壹佰贰拾万元整", 1200000, "元")]),
    ("合计人民币叁拾元零伍分", [("叁拾元零伍分", 30.05, "元")]),
    ("换 50mm 的", [("50mm", 50, "mm")]),
    ("纸面石膏板9.5mm", [("9.5mm", 9.5, "mm")]),
    ("500多吨", [("500多吨", 500, "吨")]),
    ("300余吨", [("300余吨", 300, "吨")]),
    ("发一车", [("一车", 1, "车")]),
    ("今天跑了三家", [("三家", 3, "家")]),
    ("两个住宅项目", [("两个", 2, "个")]),
    ("一点五万吨", [("一点五万吨", 15000, "吨")]),
    ("十五吨", [("十五吨", 15, "吨")]),
    # Digits next to codes, phones, plates, dates and times.
    ("P.O42.5水泥约五百吨", [("五百吨", 500, "吨")]),
    ("P.O 42.5需求2万吨左右", [("2万吨", 20000, "吨")]),
    ("P.C32.5五千吨", [("五千吨", 5000, "吨")]),
    ("C30需要3000方", [("3000方", 3000, "方")]),
    ("手机 138-0571-2233,要200卷", [("200卷", 200, "卷")]),
    ("电话0513-85123456,砂浆300吨", [("300吨", 300, "吨")]),
    ("苏E12345拉了35吨", [("35吨", 35, "吨")]),
    ("合同HT-2026-0012金额528万", [("528万", 5280000, None)]),
    ("12月20日开始供货300吨", [("300吨", 300, "吨")]),
    ("上午9点到,卸了2车", [("2车", 2, "车")]),
    ("第一批500吨已经收到了", [("500吨", 500, "吨")]),
    ("统一按310一吨", [("310", 310, None)]),
    ("5块一方", [("5块", 5, "块")]),
    ("一吨310", [("310", 310, None)]),
    ("二期项目需要C30三万方", [("二期", 2, "期"), ("三万方", 30000, "方")]),
    ("1号楼的工程量1200方", [("1200方", 1200, "方")]),
    ("3号线项目需要约2万方", [("2万方", 20000, "方")]),
    ("下周二三都可以", []),
    ("十分钟后到", [("十分钟", 10, "分钟")]),
    ("一吨三百一", [("三百一", 310, None)]),
    ("45元一平", [("45元", 45, "元")]),
    ("签三方协议", []),
]


@pytest.mark.parametrize(("text", "expected"), FIND_CASES, ids=[c[0] for c in FIND_CASES])
def test_find_numbers_mentions(text, expected):
    found = [(m.text, m.value, m.unit) for m in find_numbers(text)]
    assert found == [(t, pytest.approx(v), u) for t, v, u in expected]


NO_NUMBERS = [
    "P.O42.5",
    "PO42.5",
    "P.O 42.5",
    "P.C32.5R",
    "C30",
    "C40",
    "c30的价格",
    "13912345678",
    "0513-85123456",
    "138-0571-2233",
    "186 2345 6789",
    "苏E12345",
    "HT-2026-0012",
    "12.15",
    "12/15",
    "12月20日",
    "十二月二十日",
    "1月15号",
    "下个月10号",
    "9点",
    "上午9点",
    "10:30",
    "十点半",
    "统一",
    "一下",
    "一起",
    "一直",
    "一些",
    "一般",
    "万一",
    "一定",
    "第一次",
    "十分满意",
    "千万别忘了",
    "一方面",
    "五金",
    "下周三",
    "明年二月",
    "3天后",
]


@pytest.mark.parametrize("text", NO_NUMBERS)
def test_find_numbers_ignores(text):
    assert find_numbers(text) == []


RANGES = [
    # (text, low, high, unit)
    ("三四百吨", 300, 400, "吨"),
    ("五六千", 5000, 6000, None),
    ("两三万张", 20000, 30000, "张"),
    ("一两车", 1, 2, "车"),
    ("三四十万", 300000, 400000, None),
    ("300-400吨", 300, 400, "吨"),
    ("300到400吨", 300, 400, "吨"),
    ("300~400吨", 300, 400, "吨"),
    ("3到5万", 30000, 50000, None),
    ("三到五万", 30000, 50000, None),
    ("1.2-1.5万方", 12000, 15000, "方"),
    ("2万到3万", 20000, 30000, None),
]


@pytest.mark.parametrize(("text", "low", "high", "unit"), RANGES)
def test_find_numbers_range(text, low, high, unit):
    mentions = find_numbers(text)
    assert len(mentions) == 1
    mention = mentions[0]
    assert (mention.low, mention.high, mention.unit) == (pytest.approx(low), pytest.approx(high), unit)
    assert mention.value == pytest.approx((low + high) / 2)


APPROXIMATE = [
    ("约五百吨", True),
    ("预算八十万左右", True),
    ("大概 1200 平方", True),
    ("估计3000方", True),
    ("3000方上下", True),
    ("500多吨", True),
    ("500吨", False),
    ("合同金额528万", False),
    ("大概在8万张左右", True),
    ("回款1万多", True),
]


@pytest.mark.parametrize(("text", "expected"), APPROXIMATE)
def test_find_numbers_approximate(text, expected):
    mentions = find_numbers(text)
    assert len(mentions) == 1
    assert mentions[0].approximate is expected


# (text, [(value, per_unit, is_difference), ...])
MONEY_CASES = [
    ("预算八十万左右", [(800000, None, False)]),
    ("合同金额528万", [(5280000, None, False)]),
    ("合同额156.8万元", [(1568000, None, False)]),
    ("投标总价187.5万", [(1875000, None, False)]),
    ("明天打款58万", [(580000, None, False)]),
    ("安居地产的款还差 23.6 万没回", [(236000, None, False)]),
    ("金额估计一百二十万", [(1200000, None, False)]),
    ("回款35万已到账,剩余尾款12万下个月10号前付清", [(350000, None, False), (120000, None, False)]),
    ("壹佰贰拾万元整", [(1200000, None, False)]),
    ("预算5w", [(50000, None, False)]),
    ("单价260元/方", [(260, "方", False)]),
    ("我报了 305元/吨 含税到厂", [(305, "吨", False)]),
    ("价格按上次的310一吨", [(310, "吨", False)]),
    ("一吨310", [(310, "吨", False)]),
    ("每吨15元", [(15, "吨", False)]),
    ("5块钱一吨", [(5, "吨", False)]),
    ("5块一方", [(5, "方", False)]),
    ("300-400元/吨", [(350, "吨", False)]),
    ("要求每吨再降15元", [(15, "吨", True)]),
    ("价格比南方水泥高了大概5块一方", [(5, "方", True)]),
    ("价格再让2块就可以签", [(2, None, True)]),
    ("能便宜10元吗", [(10, None, True)]),
    ("一吨三百一", [(310, "吨", False)]),
    ("45元一平", [(45, "平", False)]),
    ("¥5000", [(5000, None, False)]),
    ("单价12.5元", [(12.5, None, False)]),
    ("每吨价格涨了3.5", [(3.5, "吨", True)]),
]


@pytest.mark.parametrize(("text", "expected"), MONEY_CASES, ids=[c[0] for c in MONEY_CASES])
def test_find_money_mentions(text, expected):
    found = [(m.value, m.per_unit, m.is_difference) for m in find_money(text)]
    assert found == [(pytest.approx(v), p, d) for v, p, d in expected]


NO_MONEY = [
    "今天跑了三家",
    "需求大概两万张",
    "C40混凝土1.2万方",
    "首付款30%月底前到账",
    "价格比我们低8%",
    "下周四发一车",
    "第一次见面",
    "统一报价",
    "第一批500吨",
    "三块板",
    "电话13912345678",
    "C30混凝土1.5万方",
    "P.O42.5",
    "12月20日",
]


@pytest.mark.parametrize("text", NO_MONEY)
def test_find_money_ignores(text):
    assert find_money(text) == []


def test_find_money_span_matches_text():
    text = "合同额156.8万元,约定12月20日开始供货"
    [money] = find_money(text)
    assert text[money.start:money.end] == money.text == "156.8万元"


def test_find_money_reuses_numbers():
    text = "回款35万已到账,剩余尾款12万"
    numbers = find_numbers(text)
    assert find_money(text, numbers) == find_money(text)
