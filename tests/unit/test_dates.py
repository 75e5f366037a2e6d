"""Table-driven tests for Chinese date resolution in visit notes."""

from datetime import date, datetime, timedelta, timezone

import pytest

from bot.understanding.dates import SPRING_FESTIVAL, find_dates

CST = timezone(timedelta(hours=8))

FRI = datetime(2026, 12, 4, 10, 0, tzinfo=CST)  # Friday; week is Mon 11-30 .. Sun 12-06
SAT = datetime(2026, 12, 5, 11, 0, tzinfo=CST)
SUN = datetime(2026, 12, 6, 9, 0, tzinfo=CST)
MON = datetime(2026, 12, 7, 18, 30, tzinfo=CST)
YEAR_END = datetime(2026, 12, 30, 15, 0, tzinfo=CST)  # Wednesday
JAN31 = datetime(2027, 1, 31, 9, 0, tzinfo=CST)  # Sunday
FEB_2027 = datetime(2027, 2, 26, 9, 0, tzinfo=CST)  # Friday, not a leap year
LEAP_MON = datetime(2028, 2, 28, 9, 0, tzinfo=CST)
LEAP_SUN = datetime(2028, 2, 27, 9, 0, tzinfo=CST)
BEFORE_FESTIVAL = datetime(2026, 2, 10, 9, 0, tzinfo=CST)  # Spring Festival is 2026-02-17
MID_JUNE = datetime(2026, 6, 15, 9, 0, tzinfo=CST)  # Monday
LATE_OCT = datetime(2026, 10, 25, 9, 0, tzinfo=CST)  # Sunday

D = date.fromisoformat

CASES = [
    # Expressions reps wrote in sample visit notes, sent Friday 2026-12-04 10:00.
    (FRI, "下周三", "2026-12-09"),
    (FRI, "下周一", "2026-12-07"),
    (FRI, "下周二", "2026-12-08"),
    (FRI, "下周四", "2026-12-10"),
    (FRI, "下周五", "2026-12-11"),
    (FRI, "下下周三", "2026-12-16"),
    (FRI, "月底", "2026-12-31"),
    (FRI, "下个月10号", "2027-01-10"),
    (FRI, "1月15号", "2027-01-15"),
    (FRI, "12月18日", "2026-12-18"),
    (FRI, "12月20日", "2026-12-20"),
    (FRI, "后天", "2026-12-06"),
    (FRI, "明天", "2026-12-05"),
    (FRI, "昨天", "2026-12-03"),
    (FRI, "下周中", "2026-12-09"),
    (FRI, "周一前", "2026-12-07"),
    (FRI, "今天下班前", "2026-12-04"),
    (FRI, "元旦前", "2026-12-31"),
    (FRI, "下个月中旬", "2027-01-15"),
    (MON, "今天", "2026-12-07"),
    (MON, "明天", "2026-12-08"),
    # Days relative to the message date.
    (FRI, "今日", "2026-12-04"),
    (FRI, "今早", "2026-12-04"),
    (FRI, "今晚", "2026-12-04"),
    (FRI, "今天上午", "2026-12-04"),
    (FRI, "明早", "2026-12-05"),
    (FRI, "明儿", "2026-12-05"),
    (FRI, "大后天", "2026-12-07"),
    (FRI, "昨日", "2026-12-03"),
    (FRI, "昨晚", "2026-12-03"),
    (FRI, "前天", "2026-12-02"),
    (FRI, "大前天", "2026-12-01"),
    (YEAR_END, "明天", "2026-12-31"),
    (YEAR_END, "后天", "2027-01-01"),
    (LEAP_MON, "明天", "2028-02-29"),
    (LEAP_MON, "后天", "2028-03-01"),
    (JAN31, "明天", "2027-02-01"),
    # Weekdays in the current Monday-to-Sunday week.
    (FRI, "本周三", "2026-12-02"),
    (FRI, "这周六", "2026-12-05"),
    (FRI, "周六", "2026-12-05"),
    (FRI, "星期天", "2026-12-06"),
    (FRI, "礼拜日", "2026-12-06"),
    (FRI, "周日", "2026-12-06"),
    # A bare weekday that has passed rolls to next week unless the clause is past.
    (FRI, "周一去拜访", "2026-12-07"),
    (FRI, "周三前回复", "2026-12-09"),
    (FRI, "周三去拜访了", "2026-12-02"),
    (FRI, "周五下午开会", "2026-12-04"),
    (FRI, "周五前回复", "2026-12-11"),
    (MON, "周一前", "2026-12-14"),
    (MON, "周日", "2026-12-13"),
    # Next, last and the week after next.
    (FRI, "下星期二", "2026-12-08"),
    (FRI, "下礼拜五", "2026-12-11"),
    (FRI, "下下周一", "2026-12-14"),
    (FRI, "上周五", "2026-11-27"),
    (FRI, "上周一", "2026-11-23"),
    (FRI, "下周", "2026-12-07"),
    (FRI, "下周初", "2026-12-07"),
    (FRI, "下周末", "2026-12-12"),
    (FRI, "周末", "2026-12-05"),
    (SAT, "周末", "2026-12-05"),
    (MON, "下周三", "2026-12-16"),
    (MON, "上周五", "2026-12-04"),
    # Sunday is the last day of its week, so next week starts tomorrow.
    (SUN, "下周三", "2026-12-09"),
    (SUN, "下周一", "2026-12-07"),
    (SUN, "下下周三", "2026-12-16"),
    (SUN, "本周三", "2026-12-02"),
    (SUN, "周三前", "2026-12-09"),
    (SUN, "周末", "2026-12-06"),
    (YEAR_END, "下周一", "2027-01-04"),
    (YEAR_END, "周日", "2027-01-03"),
    (JAN31, "下周一", "2027-02-01"),
    (LEAP_SUN, "下周二", "2028-02-29"),
    (LEAP_MON, "下周一", "2028-03-06"),
    (FEB_2027, "下周一", "2027-03-01"),
    # Parts of a month.
    (FRI, "月末", "2026-12-31"),
    (FRI, "月初", "2026-12-01"),
    (FRI, "本月中旬", "2026-12-15"),
    (FRI, "月中", "2026-12-15"),
    (FRI, "下个月", "2027-01-01"),
    (FRI, "下月", "2027-01-01"),
    (FRI, "下个月初", "2027-01-01"),
    (FRI, "下月底", "2027-01-31"),
    (FRI, "下月10日", "2027-01-10"),
    (FRI, "本月内", "2026-12-31"),
    (FRI, "一月中旬", "2027-01-15"),
    (MID_JUNE, "月初", "2026-07-01"),
    (MID_JUNE, "中旬", "2026-06-15"),
    (MID_JUNE, "下旬", "2026-06-25"),
    (YEAR_END, "下个月中旬", "2027-01-15"),
    (JAN31, "月底", "2027-01-31"),
    (JAN31, "下月底", "2027-02-28"),
    (FEB_2027, "月底", "2027-02-28"),
    (LEAP_MON, "月底", "2028-02-29"),
    (LEAP_MON, "下个月", "2028-03-01"),
    # Month and day, with and without a year.
    (FRI, "12.15", "2026-12-15"),
    (FRI, "12/15", "2026-12-15"),
    (FRI, "12-15", "2026-12-15"),
    (FRI, "12月20号", "2026-12-20"),
    (FRI, "十二月二十日", "2026-12-20"),
    (FRI, "11月20日签的合同", "2026-11-20"),
    (FRI, "9月30日", "2027-09-30"),
    (YEAR_END, "1月5日", "2027-01-05"),
    (YEAR_END, "1.8前", "2027-01-08"),
    (YEAR_END, "1.18", "2027-01-18"),
    (JAN31, "12月28日", "2026-12-28"),
    (LEAP_MON, "2月29日", "2028-02-29"),
    (FRI, "2027年1月5日", "2027-01-05"),
    (FRI, "2027-01-05", "2027-01-05"),
    (FRI, "2027/1/5", "2027-01-05"),
    (FRI, "二〇二七年一月五日", "2027-01-05"),
    # A bare day of the month.
    (FRI, "15号", "2026-12-15"),
    (FRI, "15日", "2026-12-15"),
    (FRI, "3号", "2027-01-03"),
    (FRI, "3号已经发货", "2026-12-03"),
    (YEAR_END, "15号", "2027-01-15"),
    (LEAP_MON, "29号", "2028-02-29"),
    # Holidays.
    (YEAR_END, "元旦前", "2026-12-31"),
    (FRI, "春节前", "2027-02-05"),
    (FRI, "国庆前", "2027-09-30"),
    (MID_JUNE, "国庆前", "2026-09-30"),
    (MID_JUNE, "五一前", "2027-04-30"),
    (BEFORE_FESTIVAL, "春节前", "2026-02-16"),
    (BEFORE_FESTIVAL, "年后", "2026-02-17"),
    (BEFORE_FESTIVAL, "过完年", "2026-02-17"),
    (BEFORE_FESTIVAL, "元旦前", "2026-12-31"),
    (JAN31, "春节前", "2027-02-05"),
    # Offsets from the message date.
    (FRI, "3天后", "2026-12-07"),
    (FRI, "3天内", "2026-12-07"),
    (FRI, "十天之内", "2026-12-14"),
    (FRI, "一周内", "2026-12-11"),
    (FRI, "两周后", "2026-12-18"),
    (FRI, "三天前", "2026-12-01"),
    (FRI, "半个月内", "2026-12-19"),
    (FRI, "5个工作日内", "2026-12-11"),
    (FRI, "一两天内", "2026-12-06"),
    (YEAR_END, "3天后", "2027-01-02"),
    # Years.
    (FRI, "年底", "2026-12-31"),
    (FRI, "年前", "2026-12-31"),
    (FRI, "年内", "2026-12-31"),
    (FRI, "明年二月", "2027-02-01"),
    (FRI, "明年年底", "2027-12-31"),
    (FRI, "明年初", "2027-01-01"),
    (LATE_OCT, "年初", "2027-01-01"),
    (MID_JUNE, "年底", "2026-12-31"),
    # Time-of-day qualifiers keep the date.
    (FRI, "下周三下午", "2026-12-09"),
    (FRI, "明天上午9点", "2026-12-05"),
    (FRI, "昨天下午", "2026-12-03"),
    (FRI, "周四晚上8点半", "2026-12-10"),
    # Two days named together resolve to the first.
    (FRI, "下周二三都可以", "2026-12-08"),
    (FRI, "下周六日", "2026-12-12"),
    (FRI, "今明两天", "2026-12-05"),
    (FRI, "周末两天", "2026-12-05"),
    (FRI, "周三三百吨到货", "2026-12-09"),
]


@pytest.mark.parametrize(("now", "text", "expected"), CASES, ids=[f"{c[0]:%m%d}-{c[1]}" for c in CASES])
def test_find_dates_resolves_case(now, text, expected):
    mentions = find_dates(text, now)
    assert [m.value for m in mentions[:1]] == [D(expected)]
    assert mentions[0].start == 0


ATTRIBUTES = [
    # (now, text, attribute, expected)
    (FRI, "下周三前给他们报价", "relation", "before"),
    (FRI, "下周三前给他们报价", "text", "下周三前"),
    (FRI, "月底前到账", "relation", "before"),
    (FRI, "国庆后", "relation", "after"),
    (FRI, "下周一以后", "relation", "after"),
    (FRI, "下周一再电话确认", "relation", "on"),
    (FRI, "截止12月20日", "relation", "before"),
    (FRI, "3天内", "relation", "before"),
    (FRI, "两周后", "relation", "on"),
    (FRI, "本月内", "relation", "before"),
    (BEFORE_FESTIVAL, "年后", "relation", "after"),
    (FRI, "今明两天", "relation", "before"),
    (FRI, "下周二三都可以", "text", "下周二三"),
    (FRI, "下周", "precision", "week"),
    (FRI, "下个月", "precision", "month"),
    (FRI, "明年二月", "precision", "month"),
    (FRI, "月底", "precision", "day"),
    (FRI, "下周三", "precision", "day"),
    (FRI, "昨天", "is_past", True),
    (FRI, "今天", "is_past", False),
    (FRI, "明天", "is_past", False),
    (FRI, "本周三", "is_past", True),
    (FRI, "这周", "is_past", False),
    (FRI, "这个月", "is_past", False),
    (FRI, "上周", "is_past", True),
    (FRI, "明天上午9点去拜访", "text", "明天上午9点"),
    (FRI, "今天下班前给个准话", "text", "今天下班前"),
]


@pytest.mark.parametrize(("now", "text", "attribute", "expected"), ATTRIBUTES)
def test_find_dates_attribute(now, text, attribute, expected):
    mentions = find_dates(text, now)
    assert len(mentions) == 1
    assert getattr(mentions[0], attribute) == expected


NO_DATES = [
    "三四百吨",
    "P.O42.5",
    "P.O 42.5普通硅酸盐水泥",
    "C30",
    "c30的价格",
    "电话13912345678",
    "电话0513-85123456",
    "手机 138-0571-2233",
    "手机号码是 186 2345 6789",
    "5块一方",
    "30%",
    "1.2万方",
    "23.6 万",
    "纸面石膏板9.5mm",
    "HT-2026-0012",
    "第一批500吨",
    "10-15吨",
    "3.5吨",
    "价格涨了3.5",
    "单价12.5",
    "周经理说",
    "老板姓周",
    "1号楼",
    "3号线",
    "中山路15号",
    "每周一送货",
    "一周三次",
    "三个月",
    "之前的李总调去集团了",
    "前往工地",
    "后续再说",
    "目前在比价",
    "五金",
]


def test_find_dates_consecutive_weekdays():
    mentions = find_dates("周三周四都可以", FRI)
    assert [m.text for m in mentions] == ["周三", "周四"]
    assert [m.value for m in mentions] == [D("2026-12-09"), D("2026-12-10")]


@pytest.mark.parametrize("text", NO_DATES)
def test_find_dates_ignores_non_date(text):
    assert find_dates(text, FRI) == []


def test_find_dates_converts_now_to_shanghai():
    now_utc = datetime(2026, 12, 4, 20, 0, tzinfo=timezone.utc)  # 2026-12-05 04:00 in Shanghai
    assert [m.value for m in find_dates("今天", now_utc)] == [D("2026-12-05")]


def test_find_dates_several_in_order():
    text = "昨天下午去港城拜访,他们希望我们1月15号前出一个年度框架报价"
    mentions = find_dates(text, FRI)
    assert [m.text for m in mentions] == ["昨天下午", "1月15号前"]
    assert [m.value for m in mentions] == [D("2026-12-03"), D("2027-01-15")]


def test_spring_festival_table_covers_2025_to_2030():
    assert set(range(2025, 2031)) <= set(SPRING_FESTIVAL)
    assert all(SPRING_FESTIVAL[year].month in (1, 2) for year in SPRING_FESTIVAL)
