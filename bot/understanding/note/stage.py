"""Pipeline stage, loss, reach and activity kind read from a note's wording."""

from __future__ import annotations

import re

from models.stages import Stage

# Cue words per stage, checked from the furthest stage down.
FULFILLING_RE = re.compile(
    r"回款|货款|尾款|余款|欠款|打款|的款|款还|已发货|发货了|已经发货|发了货|已经发了|收到货|已经收到|"
    r"已收到|收到了|到货|送到了|退换|退货|破损|售后|对账|开票|欠我们|还欠|结清|付清|送完|发完|供完|"
    # Goods already sent (上次C30的货有几车不合格, 那批货) are past delivery.
    r"(?:上次|上批|那批|这批|上周发的|发的|送的)\S{0,6}货"
)
CONTRACTED_RE = re.compile(
    r"合同签了|签了合同|签合同了|签约|已签|签订|签好|合同审批|合同草拟|起草合同|合同拟好|合同金额|合同额|合同总额|合同总价|合同价|"
    r"下单|下了单|订单|中标|定了我们|确定用我们|合同已|盖章|盖了章|签了|签署|签\S{0,3}协议|协议\S{0,3}(?:签|盖章|定了)|签合同|出合同|发合同|"
    r"拟合同|合同\S{0,6}(?:审批|通过|出来|发过去|寄过去)|审批通过|单子\S{0,3}下了|订了|订购|拍板|先签|"
    # An agreed deposit or delivery schedule presumes an order (先付定金再发货, 明天开始发货).
    r"付定金|交定金|付订金|预付款|首付款|(?:开始|安排|再)(?:发货|供货|送货|进场)|\d号送货"
)
QUOTING_RE = re.compile(
    r"报价|报了|报个价|询价|比价|价格|价钱|总价|降价|再降|让利|折扣|优惠|砍价|议价|单价|投标|标书|"
    r"什么价|多少钱|贵了|偏高|让\d|让[一二两三四五六七八九十]|(?:提交|出|报|做|发)\S{0,4}方案"
)
QUALIFIED_RE = re.compile(r"需要|需求|用量|预算|规格|要用|急需|要采购|采购量|确认了?需求|金额估计")
CONTACTED_RE = re.compile(
    r"第一次|初次|首次|新客户|介绍了|介绍我们|感兴趣|有兴趣|有意向|意向|认识了|建立联系|加了微信|"
    r"初步沟通|初步接触|了解了"
)
LEAD_RE = re.compile(r"线索|听说|听\S{1,4}?说|据说|打听到|有个项目|登记")
# A customer someone else introduced to us is a lead until we have met them.
REFERRAL_RE = re.compile(r"介绍的|推荐的|引荐的|介绍了?(?:他们|我们)?的?(?:合作方|合作伙伴|朋友|客户|供应商)")

# A contract cue after one of these is a condition or a plan (就可以签, 准备签), not a signature.
CONDITIONAL_BEFORE_RE = re.compile(r"(?:可以|就|能|准备|打算|要|争取|等|才|如果|希望)\s?$")
# Advance payments are contract terms, not yet money received.
ADVANCE_PAYMENT_RE = re.compile(r"首付|预付|定金|订金")

LOST_RE = re.compile(
    r"丢了|黄了|没戏|输了|落选|没中标|未中标|没中(?![间午])|落标|丢单|失败了|放弃了|不做了|没拿下|"
    r"被.{1,6}(?:抢走|拿走|拿下|抢了)|(?:选了|选择了|定了|改用|换成|用了|给了)(?:别家|别人家|其他家|其他厂家|别的厂家|其他供应商)|"
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
    if REFERRAL_RE.search(text) and not has_quantity:
        return Stage.LEAD
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


# 中标 after these words is the customer winning its own project (他们的项目中标了), not our bid.
CUSTOMER_BID_BEFORE_RE = re.compile(r"他们|对方|业主|项目")


def _has_contract(text: str) -> bool:
    for match in CONTRACTED_RE.finditer(text):
        if CONDITIONAL_BEFORE_RE.search(text, max(0, match.start() - 3), match.start()):
            continue
        if match.group() == "中标":
            before = text[max(0, match.start() - 12) : match.start()]
            if CUSTOMER_BID_BEFORE_RE.search(before) and "我们" not in before:
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
