"""Pipeline stage, loss, reach and activity kind read from a note's wording."""

from __future__ import annotations

import re

from models.stages import Stage

# Cue words per stage, checked from the furthest stage down.
FULFILLING_RE = re.compile(
    r"回款|货款|尾款|余款|欠款|打款|的款|款还|已发货|发货了|已经发货|发了货|已经发了|收到货|已经收到|"
    r"已收到|收到了|到货|送到了|退换|退货|破损|售后|对账|开票"
)
CONTRACTED_RE = re.compile(
    r"合同签了|签了合同|签合同了|签约|已签|签订|签好|合同审批|合同草拟|起草合同|合同拟好|合同金额|合同额|合同总额|合同总价|合同价|"
    r"下单|下了单|订单|中标|定了我们|确定用我们|合同已"
)
QUOTING_RE = re.compile(
    r"报价|报了|报个价|询价|比价|价格|价钱|总价|降价|再降|让利|折扣|优惠|砍价|议价|单价|投标|标书|"
    r"什么价|多少钱|贵了|偏高|让\d|让[一二两三四五六七八九十]"
)
QUALIFIED_RE = re.compile(r"需要|需求|用量|预算|规格|要用|急需|要采购|采购量|确认了?需求|金额估计")
CONTACTED_RE = re.compile(
    r"第一次|初次|首次|新客户|介绍了|介绍我们|感兴趣|有兴趣|有意向|意向|认识了|建立联系|加了微信|"
    r"初步沟通|初步接触|了解了"
)
LEAD_RE = re.compile(r"线索|听说|据说|打听到|有个项目|登记")

# A contract cue after one of these is a condition or a plan (就可以签, 准备签), not a signature.
CONDITIONAL_BEFORE_RE = re.compile(r"(?:可以|就|能|准备|打算|要|争取|等|才|如果|希望)\s?$")
# Advance payments are contract terms, not yet money received.
ADVANCE_PAYMENT_RE = re.compile(r"首付|预付|定金|订金")

LOST_RE = re.compile(
    r"丢了|黄了|没戏|输了|落选|没中标|未中标|丢单|失败了|放弃了|不做了|被.{1,6}抢走|"
    r"(?:选了|选择了|定了|改用|换成|用了|给了)(?P<competitor>.{0,6})"
)
NOT_REACHED_RE = re.compile(
    r"没接|未接|不接|无人接听|没人接|没见到|没见着|没见上|不在|关机|没联系上|联系不上|没找到人|没回复|没回消息"
)

CALL_RE = re.compile(r"打电话|电话跟进|电话联系|电话沟通|来电|致电|通话|电联|打了个电话|电话里|电话说")
WECHAT_RE = re.compile(r"微信")
VISIT_RE = re.compile(r"拜访|上门|见面|见了|吃饭|吃了个饭|现场|跑了|出来|去了|登门|面谈")


def stage_of(text: str, has_quantity: bool, first_meeting_caps: bool = True) -> Stage | None:
    """Return the furthest stage the text gives evidence of, or None."""
    if _has_fulfilling(text):
        return Stage.FULFILLING
    if _has_contract(text):
        return Stage.CONTRACTED
    if QUOTING_RE.search(text):
        return Stage.QUOTING
    first_meeting = CONTACTED_RE.search(text)
    if first_meeting and first_meeting_caps:
        return Stage.CONTACTED
    if QUALIFIED_RE.search(text) and (has_quantity or re.search(r"预算|规格|需求|金额", text)):
        return Stage.QUALIFIED
    if has_quantity and not LEAD_RE.search(text):
        return Stage.QUALIFIED
    if LEAD_RE.search(text):
        return Stage.LEAD
    return None


def _has_fulfilling(text: str) -> bool:
    for match in FULFILLING_RE.finditer(text):
        clause = _clause_around(text, match.start())
        if ADVANCE_PAYMENT_RE.search(clause) and not re.search(r"尾款|货款|回款", clause):
            continue
        return True
    return False


def _has_contract(text: str) -> bool:
    for match in CONTRACTED_RE.finditer(text):
        if CONDITIONAL_BEFORE_RE.search(text, max(0, match.start() - 3), match.start()):
            continue
        return True
    return False


def _clause_around(text: str, position: int) -> str:
    start = max(text.rfind(ch, 0, position) for ch in ",;。!?\n") + 1
    ends = [text.find(ch, position) for ch in ",;。!?\n"]
    end = min([e for e in ends if e >= 0], default=len(text))
    return text[start:end]


def lost_of(text: str, competitors: list[str]) -> tuple[bool, str | None]:
    """Return whether the deal is lost and the reason the note gives, if any."""
    for match in LOST_RE.finditer(text):
        chosen = match.groupdict().get("competitor")
        if chosen is not None and not any(name in chosen for name in competitors):
            continue
        rest = text[match.end() :]
        reason = re.split(r"[。!;\n]", rest.lstrip(",,。 "), maxsplit=1)[0].strip(",, ") or None
        return True, reason
    return False, None


def reached_of(text: str, has_touch: bool) -> bool | None:
    if not has_touch:
        return None
    return not NOT_REACHED_RE.search(text)


def activity_kind_of(text: str) -> str:
    if VISIT_RE.search(text):
        return "visit"
    if CALL_RE.search(text) or re.search(r"电话(?!\s?(?:号码?|是|:)?\s?\d)", text):
        return "call"
    if WECHAT_RE.search(text):
        return "wechat"
    return "other"
