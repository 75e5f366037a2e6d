"""Customer companies named in a note: known ones by any spelling, and new ones by their form."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.understanding.lexicon import CustomerKey, Lexicon
from bot.understanding.note.facts import CustomerMention
from bot.understanding.note.text import NoteText, Span, is_cjk

# Endings that make a run of characters a company name. Legal forms are certain; the trade
# words only count after a distinctive name of two or more characters.
LEGAL_FORM_SUFFIX_RE = re.compile(r"股份有限公司|有限责任公司|有限公司|分公司|集团|公司")
# A trade word with a shop ending (建材厂, 建材商行) is one suffix, so it is tried first.
TRADE_SUFFIX_RE = re.compile(
    r"(?:建材|水泥|混凝土|商砼|构件|管桩|砂浆|材料|五金)?(?:厂|经营部|商行|门市部)|"
    r"建材|商砼|置业|地产|实业|商贸|贸易|建工"
)

# Words that end a company name when walking left from its suffix.
NAME_STOP_TOKENS = frozenset(
    "了 的 是 叫 和 跟 与 及 同 在 到 去 给 对 向 从 找 把 被 让 由 经 约 见 问 说 做 搞 "
    "家 一家 这家 那家 位 个 这 那 该 其 我 你 他 她 它 我们 他们 你们 对方 咱们 "
    "客户 新客户 拜访 联系 对接 认识 介绍 通过 今天 昨天 明天 上午 下午 还有 以及 另外 "
    "名字 名称 单位 叫做 就是 属于 隶属 旗下 下属 关于 一个 某 自己 本 "
    # Verbs of motion and need end a name too (孙总下周一来公司, 一起过来公司, 需要C30商砼).
    "来 去 回 过来 过去 回来 一起 需要 要 用 有 在 合作方 合作伙伴 朋友 下游 上游 "
    # Counts of trips and time words (去了一趟…, 顺便去…).
    "一趟 趟 一下 一次 两次 再次 专门 特意 顺便 刚刚 刚 早上 晚上 中午 新开 新成立".split()
)
MAX_NEW_NAME_LENGTH = 20
# Stop words that also occur inside company names (泰和, 同济); tried when a name came out too short.
_NAME_INNER_STOPS = frozenset("和 同".split())

# A known company followed by one of these introduced the customer; it is the referral source.
REFERRAL_AFTER_RE = re.compile(r"^.{0,6}?(?:介绍|推荐|引荐)")
REFERRAL_BEFORE_RE = re.compile(r"(?:经|通过|由|经过)\s?$")
# A known company whose person introduces "their partner" (华建吴经理介绍了他们的合作方…) is a referral.
REFERRAL_PARTNER_RE = re.compile(
    r"^.{0,6}?(?:介绍|推荐|引荐)了?(?:他们|他|她)?的?(?:合作方|合作伙伴|朋友|客户|供应商|下游)"
)


@dataclass
class _Found:
    span: Span
    key: CustomerKey | None
    written: str
    fuzzy: bool = False


def find_customers(
    note: NoteText, lexicon: Lexicon, referrals: list[Span] | None = None
) -> list[tuple[CustomerMention, Span]]:
    """Return the customers a note is about, in order of first mention, with their spans.

    Spans of every company name found (our own company included) are masked in `note`. The
    spans of referral sources, which are not customers, are appended to `referrals` when given.
    """
    found = _exact_matches(note, lexicon)
    _mask_own_company(note, lexicon)
    for item in found:
        note.mask(item.span.start, item.span.end)
    product_spans = _product_spans(note, lexicon)
    company_forms = _new_company_spans(note, product_spans)
    for item in _fuzzy_matches(note, lexicon, found):
        if not _fits_company_form(item.span, company_forms):
            continue
        found.append(item)
        note.mask(item.span.start, item.span.end)
    found.sort(key=lambda item: item.span.start)

    new_spans = _new_company_spans(note, product_spans)
    mentions: list[tuple[CustomerMention, Span]] = []
    seen: set[object] = set()
    for item in found:
        if len(found) + len(new_spans) > 1 and _is_referral(note, item.span):
            if referrals is not None:
                referrals.append(item.span)
            continue
        indexes = item.key.customer_indexes
        if len(indexes) == 1:
            customer = lexicon.customers[indexes[0]]
            identity: object = customer.id
            mention = CustomerMention(written=item.written, name=customer.name, customer_id=customer.id)
        else:
            ids = tuple(lexicon.customers[i].id for i in indexes)
            identity = ids
            mention = CustomerMention(
                written=item.written, name=item.written, customer_id=None, candidates=ids
            )
        if identity not in seen:
            seen.add(identity)
            mentions.append((mention, item.span))

    for span in new_spans:
        name = note.text[span.start : span.end]
        if name not in seen:
            seen.add(name)
            mentions.append((CustomerMention(written=name, name=name, customer_id=None, is_new=True), span))
        note.mask(span.start, span.end)
    mentions.sort(key=lambda pair: pair[1].start)
    return mentions


def _exact_matches(note: NoteText, lexicon: Lexicon) -> list[_Found]:
    if lexicon.customer_regex is None:
        return []
    found = []
    for match in lexicon.customer_regex.finditer(note.key):
        key = lexicon.customer_keys[match.group()]
        span = note.key_span_to_text(match.start(), match.end())
        if key.derived and len(key.text) <= 3 and not note.on_token_edges(span.start, span.end):
            continue  # 新城 inside 新城区 is a district, not 常州新城
        found.append(_Found(span, key, note.text[span.start : span.end]))
    return found


def _mask_own_company(note: NoteText, lexicon: Lexicon) -> None:
    if lexicon.own_company_regex is None:
        return
    for match in lexicon.own_company_regex.finditer(note.key):
        span = note.key_span_to_text(match.start(), match.end())
        note.mask(span.start, span.end)


def _fuzzy_matches(note: NoteText, lexicon: Lexicon, exact: list[_Found]) -> list[_Found]:
    """Find spellings with one wrong character, or one missing from a spelling of four or more."""
    key_text = note.key
    covered = set()
    for item in exact:
        covered.update(range(item.span.start, item.span.end))

    candidates: set[tuple[int, int]] = set()
    for position in range(len(key_text) - 1):
        grams = [key_text[position : position + 2]]
        if position + 2 < len(key_text):
            grams.append(key_text[position] + "\0" + key_text[position + 2])
        for gram in grams:
            for key_index, offset in lexicon.fuzzy_grams.get(gram, ()):
                candidates.add((key_index, position - offset))

    best: dict[int, tuple[int, int, CustomerKey]] = {}
    for key_index, start in candidates:
        key = lexicon.fuzzy_keys[key_index]
        for begin in (start, start + 1):
            length = _near_miss_length(key.text, key_text, begin)
            if length is None:
                continue
            span = note.key_span_to_text(begin, begin + length)
            if any(i in covered for i in range(span.start, span.end)) or note.is_masked(span.start, span.end):
                continue
            written = key_text[begin : begin + length]
            if written in lexicon.customer_keys or written in lexicon.competitor_by_key:
                continue
            if lexicon.competitor_regex is not None and lexicon.competitor_regex.search(written):
                continue
            previous = best.get(span.start)
            if previous is None or length > previous[1] - previous[0]:
                best[span.start] = (span.start, span.end, key)

    results: list[_Found] = []
    taken_until = -1
    for start in sorted(best):
        begin, end, key = best[start]
        if begin < taken_until:
            continue
        taken_until = end
        results.append(_Found(Span(begin, end), key, note.text[begin:end], fuzzy=True))
    return results


def _near_miss_length(key: str, text: str, start: int) -> int | None:
    """Return the length of the near miss of `key` at `text[start:]`, or None if there is none."""
    if start < 0:
        return None
    length = len(key)
    window = text[start : start + length]
    if len(window) == length:
        differences = [i for i in range(length) if window[i] != key[i]]
        # A short spelling with its first character wrong is more often another company
        # (中建集团 against 华建集团) than a typo.
        if len(differences) == 1 and (differences[0] > 0 or length >= 5) and is_cjk(window[differences[0]]):
            return length
    if length >= 4:
        window = text[start : start + length - 1]
        if len(window) == length - 1:
            for missing in range(1, length):
                if key[:missing] + key[missing + 1 :] == window:
                    return length - 1
    return None


def _fits_company_form(span: Span, company_forms: list[Span]) -> bool:
    """Tell whether a near miss may stand where a company name is written.

    Inside a full company name (嘉善恒昌建材有限公司) a near miss of a short alias (恒达建材) is
    another company. Only a near miss that starts the name and reaches its suffix counts.
    """
    for form in company_forms:
        if span.start < form.end and form.start < span.end:
            return span.start == form.start and span.end >= form.end - len("有限公司")
    return True


def _is_referral(note: NoteText, span: Span) -> bool:
    after = note.text[span.end : span.end + 8]
    before = note.text[max(0, span.start - 3) : span.start]
    if REFERRAL_PARTNER_RE.match(note.text[span.end : span.end + 20]):
        return True
    return bool(REFERRAL_AFTER_RE.match(after)) and (
        bool(REFERRAL_BEFORE_RE.search(before)) or "介绍的" in after or "推荐的" in after
    )


def _product_spans(note: NoteText, lexicon: Lexicon) -> list[Span]:
    """Return the spans of catalog product spellings and grade codes (C30商砼 is no company)."""
    spans = []
    if lexicon.product_regex is not None:
        for match in lexicon.product_regex.finditer(note.key):
            spans.append(note.key_span_to_text(match.start(), match.end()))
    for match in _GRADE_CODE_RE.finditer(note.text):
        spans.append(Span(match.start(), match.end()))
    return spans


_GRADE_CODE_RE = re.compile(r"[A-Za-z]\s?\d{2}")


def _new_company_spans(note: NoteText, product_spans: list[Span]) -> list[Span]:
    masked = note.masked
    spans: list[Span] = []
    claimed: set[int] = set()
    for pattern, min_prefix in ((LEGAL_FORM_SUFFIX_RE, 2), (TRADE_SUFFIX_RE, 2)):
        for match in pattern.finditer(masked):
            if match.start() in claimed:
                continue
            joined = next((i for i, span in enumerate(spans) if span.end == match.start()), None)
            if joined is not None:
                # 集团有限公司: a legal form right after another one extends that name.
                spans[joined] = Span(spans[joined].start, match.end())
                claimed.update(range(match.start(), match.end()))
                continue
            start = _name_start(note, masked, match.start())
            prefix = masked[start : match.start()]
            if (len(prefix) < min_prefix or prefix in _GENERIC_PREFIXES) and pattern is LEGAL_FORM_SUFFIX_RE:
                # 和 or 同 inside a name (泰和, 同济) cut it short before a legal form; walk on.
                longer = _name_start(note, masked, match.start(), inner_characters=_NAME_INNER_STOPS)
                if match.start() - longer >= 4:
                    start, prefix = longer, masked[longer : match.start()]
            if len(prefix) < min_prefix or prefix in _GENERIC_PREFIXES:
                continue
            if match.end() - start > MAX_NEW_NAME_LENGTH:
                continue
            span = Span(start, match.end())
            if pattern is TRADE_SUFFIX_RE and _continues_as_word(masked, match.end()):
                continue
            if any(p.start < span.end and span.start < p.end for p in product_spans):
                continue
            spans.append(span)
            claimed.update(range(span.start, span.end))
    spans.sort(key=lambda s: s.start)
    return spans


_GENERIC_PREFIXES = frozenset("水泥 混凝土 防水 保温 装饰 建筑 房地产 建材 钢材 砂浆 管桩 我们 他们 对方 总 分 子 母".split())


def _continues_as_word(masked: str, end: int) -> bool:
    """Tell whether a trade word is the start of a longer noun (建材市场, 厂房, 地产项目)."""
    return end < len(masked) and masked[end] in "市场房区商价行业城"


def _name_start(note: NoteText, masked: str, suffix_start: int, inner_characters: frozenset[str] = frozenset()) -> int:
    """Walk left from a company suffix over the name's words; return where the name starts."""
    starts, _ = note.token_edges()
    start = suffix_start
    position = suffix_start - 1
    while position >= 0 and suffix_start - position <= MAX_NEW_NAME_LENGTH:
        ch = masked[position]
        if not (is_cjk(ch) or ch.isascii() and ch.isalnum()):
            break
        if position in starts:
            token = masked[position:start]
            if token in NAME_STOP_TOKENS and token not in inner_characters:
                break
            start = position
        position -= 1
    return start
