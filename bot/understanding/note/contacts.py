"""People at the customer: names, titles and phone numbers.

A person is written as surname + title (王经理, 李总, 陈工), full name + title (钱立明经理), title +
叫/是 + full name (采购经理叫吴海燕), title + 姓 + surname (老板姓周), or 小/老 + surname (小林).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers

from bot.understanding.lexicon import Lexicon, match_key
from bot.understanding.note.facts import ContactFact
from bot.understanding.note.text import MASK, NoteText, Span, is_cjk

SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏"
    "吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱"
    "严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁"
    "尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳穆"
    "农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师仇栾隋商"
    "刁沙荣巫寇桑郎甄丛仲虞敖巩佘池查麻苑迟邝"
)
COMPOUND_SURNAMES = frozenset("欧阳 司马 诸葛 上官 皇甫 慕容 令狐 夏侯 尉迟 公孙 宇文 长孙".split())

# Titles written after a surname, longest first so that 总经理 wins over 经理 and 总.
TITLES = (
    "副总经理", "总经理", "董事长", "工程师", "总监", "副总", "经理", "主任", "部长", "科长", "处长",
    "局长", "主管", "老板娘", "老板", "书记", "总工", "会计", "老师", "师傅", "助理", "秘书", "所长", "站长",
    "队长", "院长", "厂长", "总", "工", "姐", "哥",
)
_TITLE_ALTERNATION = "|".join(TITLES)
TITLE_RE = re.compile(_TITLE_ALTERNATION)

# 总 and 工 start many ordinary words (总价, 总共, 工地, 工程); then they are no title.
_NOT_TITLE_AFTER = {
    "总": set("价共额计部量体之算结数裁"),
    "工": set("程地厂作期艺人资具序业商区位种会时钱"),
    "姐": set("妹"),
    "哥": set("们"),
}
# A surname + title pair this frequent in jieba's dictionary is a word (施工, 包工), not a person.
MAX_TITLE_PAIR_FREQ = 100
# A candidate full name this frequent in jieba's dictionary is a word (项目, 公司), not a name.
MAX_FULL_NAME_FREQ = 50

_FUNCTION_PREFIX = r"(?:采购|技术|项目|销售|财务|工程|生产|质量|质检|行政|商务|物资|材料|设备|物流|仓储|总务)"
_ROLE = rf"(?:{_FUNCTION_PREFIX}?部?(?:{_TITLE_ALTERNATION})|负责人|联系人|对接人)"
NAMED_ROLE_RE = re.compile(
    rf"(?P<title>{_ROLE})(?:的名字|名字)?(?:叫做|叫|是|为|:|(?<=人)|(?<=[理监长管任]))\s?(?P<name>[\u4e00-\u9fff]{{2,3}})"
)
SURNAMED_ROLE_RE = re.compile(rf"(?P<title>{_ROLE})?姓(?P<name>[\u4e00-\u9fff]{{1,2}})")
FAMILIAR_RE = re.compile(r"[小老](?P<name>[\u4e00-\u9fff])")
_FAMILIAR_NOT_NAMES = frozenset("小于 小高 小时 小区 老是 老家 老客 小批 小样 小量".split())
_ROLES_WITHOUT_TITLE = frozenset({"联系人", "对接人"})

# A full name stops before one of these characters.
_NAME_END_CHARS = frozenset("电手说的了和在今明昨是也都就还又对要会让给先这那经主总工部等来去跟与及讲")

# Characters after which a surname may start (the end of a verb, particle or department).
_BOUNDARY_CHARS = frozenset("了的是叫和跟与及给找见约问请让被把对向位个说新访系接到过同部科处室组办队")

# A person introduced with one of these is a former contact (之前的李总调去集团了).
FORMER_RE = re.compile(r"(?:之前|原来|原先|以前|前任|上任|老)的?\s?$")
COLLEAGUE_CUE_RE = re.compile(r"(?:我们|我司|咱们|我方|本公司|公司的|回去问下?|问下|请示)\S{0,4}$")

# A user's surname followed by one of these goes along with the rep (李总一起拜访了禾城).
ACCOMPANYING_RE = re.compile(r"\s?(?:一起|陪我|陪同|带我|和我|跟我)")
# A user's surname that the rep reports to or that approves our prices is our manager
# (跟李总汇报了, 李总同意给恒达申请特价).
REPORTED_TO_RE = re.compile(r"\s?(?:汇报|请示|审批|批准|特批|批了|同意给|同意申请)")

_PHONE_HINT_RE = re.compile(r"\d[\d\s\-]{5,}\d")


@dataclass
class _Person:
    span: Span
    name: str
    title: str | None


def find_phones(note: NoteText) -> list[tuple[str, Span]]:
    """Find phone numbers: mobiles as 11 digits, landlines as area code + "-" + number.

    Their spans are masked so that the digits are not read as quantities.
    """
    if not _PHONE_HINT_RE.search(note.text):
        return []
    phones = []
    for match in phonenumbers.PhoneNumberMatcher(note.text, "CN"):
        number = match.number
        national = phonenumbers.national_significant_number(number)
        area_length = phonenumbers.length_of_geographical_area_code(number)
        if area_length and phonenumbers.number_type(number) != phonenumbers.PhoneNumberType.MOBILE:
            written = f"0{national[:area_length]}-{national[area_length:]}"
        else:
            written = national
        phones.append((written, Span(match.start, match.end)))
        note.mask(match.start, match.end)
    return phones


def find_contacts(
    note: NoteText,
    lexicon: Lexicon,
    phones: list[tuple[str, Span]],
    customer_spans: list[tuple[str, Span]],
    referral_spans: list[Span] = (),
) -> list[ContactFact]:
    """Return the customer's people named in the note, with phone numbers attached.

    People written right after a referral source (华建吴经理介绍的) work there, not at the
    customer, so they are left out.
    """
    masked = note.masked
    people = _named_roles(masked, lexicon)
    claimed_positions = {i for person in people for i in range(person.span.start, person.span.end)}
    for person in _titled_people(masked, lexicon, claimed_positions) + _familiar_people(masked, claimed_positions):
        people.append(person)
    claimed_positions = {i for person in people for i in range(person.span.start, person.span.end)}
    people += _people_before_phones(masked, lexicon, phones, claimed_positions)
    people.sort(key=lambda person: person.span.start)

    people = [
        p for p in people
        if not _is_former(masked, p)
        and not _is_colleague(note.text, masked, lexicon, p)
        and not _follows_referral(masked, referral_spans, p)
    ]
    people = _merge_surnames_into_full_names(people)

    contacts: dict[str, ContactFact] = {}
    positions: dict[str, list[int]] = {}
    for person in people:
        fact = contacts.get(person.name)
        if fact is None:
            fact = ContactFact(
                name=person.name,
                title=person.title,
                phone=None,
                customer_name=_customer_before(customer_spans, person.span.start),
            )
            contacts[person.name] = fact
        elif fact.title is None:
            fact.title = person.title
        positions.setdefault(person.name, []).append(person.span.start)

    _attach_phones(note, contacts, positions, phones)
    return list(contacts.values())


def _named_roles(masked: str, lexicon: Lexicon) -> list[_Person]:
    people = []
    for match in NAMED_ROLE_RE.finditer(masked):
        name = match.group("name")
        if not _starts_with_surname(name):
            continue
        name_start = match.start("name")
        title = _role_title(match.group("title"))
        title_after = TITLE_RE.match(masked, name_start + len(name))
        if title_after and len(name) == 3:
            title = title_after.group()  # 负责人是钱立明经理: the title follows the name
        elif len(name) == 3 and name[2] in _NAME_END_CHARS:
            name = name[:2]
        if name[1] in _NAME_END_CHARS:
            continue
        # Without 叫 or 是 between them (项目经理周强), the name must not be an ordinary word.
        if name_start == match.end("title") and _is_common_word(lexicon, name):
            continue
        people.append(_Person(Span(match.start(), name_start + len(name)), name, title))
    for match in SURNAMED_ROLE_RE.finditer(masked):
        name = match.group("name")
        surname = name if name in COMPOUND_SURNAMES else name[0]
        if surname not in SURNAMES and surname not in COMPOUND_SURNAMES:
            continue
        title = match.group("title")
        start = match.start() if title else match.start("name") - 1
        people.append(_Person(Span(start, match.start("name") + len(surname)), surname, _role_title(title)))
    return people


def _role_title(title: str | None) -> str | None:
    if title is None or title in _ROLES_WITHOUT_TITLE:
        return None
    return title


def _starts_with_surname(name: str) -> bool:
    return name[0] in SURNAMES or name[:2] in COMPOUND_SURNAMES


def _titled_people(masked: str, lexicon: Lexicon, claimed_positions: set[int]) -> list[_Person]:
    people = []
    for match in TITLE_RE.finditer(masked):
        title = match.group()
        if match.start() in claimed_positions:
            continue
        following = masked[match.end() : match.end() + 1]
        if following and following in _NOT_TITLE_AFTER.get(title, ()):
            continue
        name = _name_before(masked, match.start(), lexicon)
        if name is None:
            continue
        if lexicon.tokenizer.FREQ.get(name[-1] + title, 0) > MAX_TITLE_PAIR_FREQ and len(name) == 1:
            continue
        start = match.start() - len(name)
        if start in claimed_positions:
            continue
        people.append(_Person(Span(start, match.end()), name, title))
    return people


def _is_common_word(lexicon: Lexicon, candidate: str) -> bool:
    return lexicon.tokenizer.FREQ.get(candidate, 0) > MAX_FULL_NAME_FREQ and candidate not in lexicon.user_names


def _name_before(masked: str, title_start: int, lexicon: Lexicon) -> str | None:
    """Pick the surname or full name written right before a title.

    A full name (two or three characters starting with a surname) must follow a boundary: the
    start of the text, punctuation, a masked entity or a particle such as 了 or 的.
    """
    single = None
    for length in (1, 2, 3):
        start = title_start - length
        if start < 0:
            break
        candidate = masked[start:title_start]
        if not all(is_cjk(ch) for ch in candidate):
            break
        if not _starts_with_surname(candidate):
            continue
        at_boundary = start == 0 or not is_cjk(masked[start - 1]) or masked[start - 1] in _BOUNDARY_CHARS
        if length == 1:
            single = candidate
            if at_boundary:
                return candidate
        elif at_boundary and not any(ch in "的了是和在与跟" for ch in candidate[1:]):
            if not _is_common_word(lexicon, candidate):
                return candidate
    return single


def _familiar_people(masked: str, claimed_positions: set[int]) -> list[_Person]:
    people = []
    for match in FAMILIAR_RE.finditer(masked):
        surname = match.group("name")
        if match.start() in claimed_positions or surname not in SURNAMES:
            continue
        if match.group() in _FAMILIAR_NOT_NAMES or masked[match.start() : match.end() + 1] in _FAMILIAR_NOT_NAMES:
            continue
        if TITLE_RE.match(masked, match.end()):
            continue  # 小王总 is read as 王 + 总 by the title scan
        people.append(_Person(Span(match.start(), match.end()), surname, None))
    return people


def _people_before_phones(
    masked: str, lexicon: Lexicon, phones: list[tuple[str, Span]], claimed_positions: set[int]
) -> list[_Person]:
    """Find untitled full names written right before a phone number (钱立明 186 2345 6789)."""
    people = []
    for _, span in phones:
        match = _NAME_BEFORE_PHONE_RE.search(masked, max(0, span.start - 12), span.start)
        if match is None or match.start("name") in claimed_positions:
            continue
        name = match.group("name")
        start = match.start("name")
        if start > 0 and is_cjk(masked[start - 1]):
            continue  # the name must follow a boundary: a space, punctuation or a masked company
        if not _starts_with_surname(name) or _is_common_word(lexicon, name):
            continue
        if any(ch in "的了是和在与跟说" for ch in name[1:]):
            continue
        people.append(_Person(Span(start, start + len(name)), name, None))
    return people


_NAME_BEFORE_PHONE_RE = re.compile(
    r"(?P<name>[\u4e00-\u9fff]{2,3})\s?(?:的)?(?:手机号码|手机号|手机|电话号码|电话|联系方式)?\s?[::]?\s?(?:\+?86)?\s?$"
)


def _follows_referral(masked: str, referral_spans: list[Span], person: _Person) -> bool:
    for span in referral_spans:
        gap = masked[span.end : person.span.start]
        if span.end <= person.span.start and len(gap) <= 2 and gap in ("", "的", " ", "的 "):
            return True
    return False


def _merge_surnames_into_full_names(people: list[_Person]) -> list[_Person]:
    """Read 张部长 as 张海军 when the note named exactly one 张 in full (采购部长张海军 … 张部长)."""
    full_names = [p for p in people if len(p.name) >= 2 and p.name not in COMPOUND_SURNAMES]
    merged = []
    for person in people:
        if len(person.name) == 1:
            matches = {p.name for p in full_names if p.name[0] == person.name}
            if len(matches) == 1:
                full_name = matches.pop()
                person = _Person(person.span, full_name, person.title)
        merged.append(person)
    return merged


def _is_former(masked: str, person: _Person) -> bool:
    return bool(FORMER_RE.search(masked, max(0, person.span.start - 4), person.span.start))


def _is_colleague(note_text: str, masked: str, lexicon: Lexicon, person: _Person) -> bool:
    """Tell whether a person is one of our own users rather than a customer's."""
    if person.name in lexicon.user_names:
        return True
    departments = lexicon.user_departments.get(person.name[0])
    if departments is None:
        return False
    before = masked[max(0, person.span.start - 8) : person.span.start]
    if any(before.endswith(dept) or before.endswith(dept + "的") for dept in departments):
        return True
    if before.rstrip("的").endswith(MASK) and lexicon.own_company_regex is not None:
        if lexicon.own_company_regex.search(match_key(note_text[max(0, person.span.start - 16) : person.span.start])):
            return True
    if ACCOMPANYING_RE.match(masked, person.span.end) or REPORTED_TO_RE.match(masked, person.span.end):
        return True
    return bool(COLLEAGUE_CUE_RE.search(before))


def _customer_before(customer_spans: list[tuple[str, Span]], position: int) -> str | None:
    chosen = None
    for name, span in customer_spans:
        if span.start <= position:
            chosen = name
    if chosen is None and customer_spans:
        chosen = customer_spans[0][0]
    return chosen


def _attach_phones(
    note: NoteText,
    contacts: dict[str, ContactFact],
    positions: dict[str, list[int]],
    phones: list[tuple[str, Span]],
) -> None:
    """Give each phone number to the nearest person before it, else the nearest after it."""
    for phone, span in phones:
        before = [(pos, name) for name, ps in positions.items() for pos in ps if pos < span.start]
        after = [(pos, name) for name, ps in positions.items() for pos in ps if pos > span.start]
        owner = None
        if before:
            owner = max(before)[1]
        elif after:
            owner = min(after)[1]
        if owner is not None and contacts[owner].phone is None:
            contacts[owner].phone = phone

