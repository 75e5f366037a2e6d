"""The regular expressions and numeral readers that find Chinese date expressions.

`bot.understanding.dates` resolves what these patterns match; the rules of resolution are
in its docstring.
"""

import re

CN_DIGITS = {
    "零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4,
    "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}


def small_int(token: str) -> int | None:
    """Convert an Arabic or Chinese numeral below 100 (15, 十五, 二十, 三) to an int."""
    if token.isdigit():
        return int(token)
    if "十" in token:
        tens, _, ones = token.partition("十")
        if len(tens) > 1 or len(ones) > 1:
            return None
        tens_value = CN_DIGITS.get(tens, None) if tens else 1
        ones_value = CN_DIGITS.get(ones, None) if ones else 0
        if tens_value is None or ones_value is None:
            return None
        return tens_value * 10 + ones_value
    if len(token) == 1:
        return CN_DIGITS.get(token)
    return None


def cn_year(token: str) -> int:
    if token.isdigit():
        return int(token)
    return int("".join(str(CN_DIGITS[ch]) for ch in token))



MON = r"(?:1[0-2]|0?[1-9]|十[一二]?|[一二三四五六七八九])"
DAY = r"(?:[12]\d|3[01]|0?[1-9]|三十一?|二十[一二三四五六七八九]?|十[一二三四五六七八九]?|[一二三四五六七八九])"
CN_NUM_CHARS = "一二三四五六七八九十两零〇"
YEAR_WORD = r"今年|明年|去年|后年"
REL_MONTH = r"下下个?月|下个?月|本月|这个?月|当月|上上个?月|上个?月"
MONTH_PART = r"月?底|月?末|月?初|中旬|上旬|下旬|中(?!心|间|标|介|层|型|午)"

# Characters that, right after a number, make it a quantity rather than a date.
UNIT_AFTER = set("万千亿百元块角吨方立平米厘毫公斤克件张卷包袋车台套个只根支片桶箱%‰倍折成寸尺天周度")

UNIT_CLASS = re.escape("".join(sorted(UNIT_AFTER)))

YMD_RE = re.compile(
    r"(?<![\d.\-/])(?:(?P<y>20\d{2})|(?P<ycn>[二][〇零][一二三四五六七八九〇零]{2}))"
    rf"(?:年(?P<m>{MON})月份?(?:(?P<d>{DAY})(?P<dsuf>[日号])?)?"
    r"|(?P<sep>[-/.])(?P<m2>\d{1,2})(?P=sep)(?P<d2>\d{1,2})(?![\d.\-/]))"
)
MONTH_RE = re.compile(
    rf"(?:(?P<yp>{YEAR_WORD})|(?<![\d{CN_NUM_CHARS}个第每.年]))"
    rf"(?:(?P<m>{MON})月份?|(?P<rel>{REL_MONTH}))"
    rf"(?:(?P<d>{DAY})(?:(?P<dsuf>[日号])|(?![\d.\s{UNIT_CLASS}]))|(?P<part>{MONTH_PART}))?"
)
BARE_MONTH_PART_RE = re.compile(r"(?<![个每])(?:月(?P<p1>底|末|初|中旬|上旬|下旬|中(?!心|间|标|介|层|型|午))|(?P<p2>上旬|中旬|下旬))")
YEAR_PART_RE = re.compile(
    rf"(?:(?P<yp>今|明|去|后|20\d{{2}})年年?|(?<![\d{CN_NUM_CHARS}几多今明去后前过新每])年)"
    r"(?P<part>底|末|初|内|前(?![三两几\d])|后)"
)
WEEK_RE = re.compile(
    r"(?:(?P<wp>下下个?|下个?|上上个?|上个?|本|这个?|今)(?:周|星期|礼拜|週)"
    # A numeral before a bare 周 makes a duration (一周三次), except the day of a
    # preceding weekday (周三周四).
    rf"|(?:(?<![每{CN_NUM_CHARS}几\d个上下本这今小老姓叫阿])|(?<=[周期拜][一二三四五六日天]))"
    r"(?:周|星期|礼拜|週))"
    # 下周二三 / 下周六日 name two days; the mention resolves to the first.
    rf"(?:(?P<wd>[一二三四五六日天末中初1-7])(?P<wd2>[二三四五六日天](?![\d{CN_NUM_CHARS}]))?(?!\d))?"
)
REL_DAY_RE = re.compile(
    r"今明两天|大后天|大前天|今天|今日|今早|今晚|今儿个?|明天|明日|明早|明晚|明儿个?|昨天|昨日|昨晚|昨儿个?"
    r"|(?<![之以然最提目眼跟面当往事先随此其落滞推延])(?:后天|前天)"
)
DAY_ONLY_RE = re.compile(
    rf"(?<![\d.\-/月第路街道巷弄楼室栋幢层号年{CN_NUM_CHARS}])(?P<d>{DAY})(?P<suf>号|日)"
    r"(?!楼|线|机|库|仓|门|位|厅|车|地块|标|院|房|窗|口|桥|路|街|厂|罐|站|炉|窑|码|柜|箱|店|栋|单元|层"
    r"|期|常|均|产|用|报|志|照|光|夜|程|记|益|元|语|本|内|之内|以内)"
)
DURATION_RE = re.compile(
    rf"(?<![\d.第])(?P<n>\d{{1,3}}|[{CN_NUM_CHARS}]{{1,3}}|半|几)"
    r"(?P<u>个工作日|工作日|个?星期|个?礼拜|周|个半月|个月|天|日|年)"
    r"(?P<rel>之后|以后|后|之内|以内|内|之前|以前|前)"
)
HOLIDAY_RE = re.compile(
    rf"(?P<yp>{YEAR_WORD})?"
    r"(?P<h>元旦|春节|过完年|过年|国庆节?|劳动节|圣诞节?"
    r"|五一(?=前|之前|以前|后|之后|以后|假|节|长假|期间)|十一(?=长假|假期|黄金周))"
)
NUMERIC_MD_RE = re.compile(
    r"(?<![\d.\-/:：A-Za-z])(?P<m>1[0-2]|0?[1-9])(?P<sep>[./\-])(?P<d>[12]\d|3[01]|0?[1-9])(?P<suf>[日号])?"
    r"(?![\d.\-/:：A-Za-z%])"
)

TIME_QUALIFIER_RE = re.compile(
    r"\s?(?:上午|下午|中午|晚上|早上|早晨|傍晚|凌晨|夜里|白天|下班|上班)?"
    rf"(?:\s?(?:[01]?\d|2[0-3]|[{CN_NUM_CHARS}]{{1,3}})(?:点|时|[:：][0-5]\d)(?:半|一刻|三刻|[0-5]?\d分|[0-5]\d)?)?"
)
RELATION_RE = re.compile(
    r"之前|以前|前(?![往来去进台端])|之后|以后|后(?![续面期来勤台方天])|之内|以内|内(?![容部地外])"
)
DATE_CONTEXT_AFTER_RE = re.compile(
    r"\s?(?:前|之前|以前|后|之后|以后|上午|下午|晚上|开标|交货|发货|到货|送货|供货|付款|签|开会|见面|到场|进场|开工)"
)
BEFORE_PREFIX_RE = re.compile(r"(?:截止到?|截至|最晚|最迟|不晚于|不迟于)\s?$")
CLAUSE_BREAK_RE = re.compile(r"[,，。;；!！?？\n、:：]")
PAST_MARK_RE = re.compile(r"了|已经|已|刚|去过|见过|来过|聊过|谈过|过了")

RELATION_WORDS = {
    "前": "before", "之前": "before", "以前": "before",
    "内": "before", "之内": "before", "以内": "before",
    "后": "after", "之后": "after", "以后": "after",
}
