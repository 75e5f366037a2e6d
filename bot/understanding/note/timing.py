"""The touch date and the due date of a note."""

from __future__ import annotations

import re
from datetime import date

from bot.understanding.dates import DateMention
from bot.understanding.note.text import CLAUSE_BREAKS, NoteText

# Words that show a touch with the customer happened (a visit, a call, a message, a reply).
TOUCH_RE = re.compile(
    r"拜访了|拜访|见了|见面|聊了|聊|谈了|沟通|电话|来电|打了|微信|反馈|说|问|回复|表示|确认|约了|"
    r"吃了|吃饭|去了|跑了|出来|联系|跟进|签了|签约|报了|递交|收到|到账|丢了|黄了|选了|介绍了"
)
PLAN_RE = re.compile(r"准备|打算|计划|预计去|要去|将去")
PAST_TOUCH_MARK_RE = re.compile(r"了|过|说|反馈|回复|表示|已|刚|约我")
# 听朋友说 and 听他们老板说 report hearsay just like 听说.
LEAD_ONLY_RE = re.compile(r"听说|听\S{1,4}?说|据说|打听到|登记个?线索|有个线索|线索")
NO_TOUCH_RE = re.compile(r"没有拜访|没拜访|没去|没有去|没出去|没有联系|没联系客户|在公司|休息|请假")
CORRECTION_RE = re.compile(r"更正|纠正|修改|改一下|记错|补充一下|补录|更新一下|写错")
# A note that opens with a future date within this many characters is a plan (明天上午去拜访…).
PLAN_OPENING_CHARS = 2
# A date followed by one of these is a deadline, even when it is today (今天下班前).
DEADLINE_AFTER_RE = re.compile(r"^\S{0,4}?(?:前|之前|以前|内|给|回复|答复|定|发|打|送|交|到)")


def resolve_dates(
    note: NoteText,
    mentions: list[DateMention],
    today: date,
    has_customer: bool,
) -> tuple[date | None, date | None, DateMention | None]:
    """Return (visit date, due date, the mention that gave the due date)."""
    text = note.text
    day_mentions = [m for m in mentions if m.precision == "day"]

    due_mention = None
    for mention in day_mentions:
        if mention.relation == "after":
            continue  # 年后, 元旦后: an open start, not a date anyone has to act by
        is_future = mention.value > today or (
            mention.value == today and (mention.relation == "before" or _reads_as_deadline(text, mention))
        )
        if is_future and (due_mention is None or mention.value < due_mention.value):
            due_mention = mention
    due = due_mention.value if due_mention else None

    visit = _visit_date(note, day_mentions, today, has_customer)
    return visit, due, due_mention


def _reads_as_deadline(text: str, mention: DateMention) -> bool:
    if not any(word in mention.text for word in ("前", "内")):
        following = text[mention.end : mention.end + 8]
        return bool(re.match(r"^\s?(?:下班|之前|以前|前|内)", following))
    return True


def _visit_date(note: NoteText, mentions: list[DateMention], today: date, has_customer: bool) -> date | None:
    text = note.text
    if not has_customer or NO_TOUCH_RE.search(text):
        return None
    touches = list(TOUCH_RE.finditer(text))
    touch_outside_phone_labels = [t for t in touches if not _is_phone_label(text, t)]

    if LEAD_ONLY_RE.search(text) and not _has_real_touch(text, touch_outside_phone_labels):
        return None
    if CORRECTION_RE.search(text) and not _has_real_touch(text, touch_outside_phone_labels):
        return None
    if _is_plan_only(text, mentions, today, touch_outside_phone_labels):
        return None

    for mention in mentions:
        if mention.value < today:
            clause = note.clause_text(mention.start)
            if TOUCH_RE.search(clause) or mention.start <= 2:
                return mention.value
    return today


def _is_phone_label(text: str, touch: re.Match[str]) -> bool:
    return touch.group() == "电话" and bool(re.match(r"\s?(?:号码?|是|:)?\s?\d", text[touch.end() : touch.end() + 5]))


def _has_real_touch(text: str, touches: list[re.Match[str]]) -> bool:
    """Tell whether a touch verb reports a contact that happened (对接上 negated does not)."""
    for touch in touches:
        before = text[max(0, touch.start() - 3) : touch.start()]
        if "没" in before or "未" in before:
            continue
        if touch.group() in ("说", "问") and before[-1:] in ("听", "据", "打"):
            continue
        if touch.group() == "说" and "听" in text[max(0, touch.start() - 5) : touch.start()]:
            continue
        if touch.group() in ("联系", "跟进") and not re.match(r"^了", text[touch.end() :]):
            continue
        return True
    return False


# Words after a future date that plan a meeting (明天到公司来看样板, 下周四跟总工见面).
PLANNED_MEETING_RE = re.compile(r"(?<!下)来|去|见面|拜访|上门|碰面")


def _plans_meeting(text: str, mention: DateMention) -> bool:
    breaks = [text.find(ch, mention.end) for ch in CLAUSE_BREAKS]
    clause_end = min([i for i in breaks if i >= 0], default=len(text))
    return bool(PLANNED_MEETING_RE.search(text, mention.end, clause_end))


def _follows_future_date(text: str, future: list[DateMention], position: int) -> bool:
    clause_start = max(text.rfind(ch, 0, position) for ch in CLAUSE_BREAKS) + 1
    return any(clause_start <= m.start < position for m in future)


def _is_plan_only(text: str, mentions: list[DateMention], today: date, touches: list[re.Match[str]]) -> bool:
    """Tell whether the note only plans a touch (明天上午去拜访) and reports none."""
    if PAST_TOUCH_MARK_RE.search(text):
        return False
    future = [m for m in mentions if m.value > today]
    # A touch verb after a future date in its clause is planned (下周四跟他们总工见面).
    touches = [t for t in touches if not _follows_future_date(text, future, t.start())]
    if not touches and any(_plans_meeting(text, m) for m in future):
        return True
    first_future = min((m.start for m in future), default=None)
    first_touch = touches[0].start() if touches else len(text)
    if first_future is not None and first_future <= PLAN_OPENING_CHARS and first_future < first_touch:
        return True
    return bool(PLAN_RE.search(text[: first_touch + 1]))
