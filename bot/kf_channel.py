"""WeChat customer service (微信客服, kf): syncing customer messages, answering them, and sending replies.

The flow:

1. WeCom posts `kf_msg_or_event` with a `Token`; the callback stores it in the inbox like any event.
2. A worker processing that event calls `kf/sync_msg` with the token and the cursor kept per
   `open_kfid`, page after page, and stores each customer message as its own inbox row
   (channel `kf`, deduplicated by msgid) together with the new cursor, in one transaction.
3. Each customer message row is answered by a use case in `handlers/`; the replies are outbox
   rows of kind `kf`, and notifications to reps are ordinary app messages.
4. The sender sends `kf` rows with `kf/send_msg`, at most 5 within the 48 hours after the
   customer's last message. A reply that does not fit goes to the customer's owner rep instead.
"""

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.outbox import enqueue_kf_reply, enqueue_reply
from bot.runtime import Runtime
from bot.wecom.client import SendResult, WeComClient
from bot.wecom.kf import ORIGIN_CUSTOMER, SYNC_LIMIT_MAX, KfClient, KfMessage
from handlers import order_status, service_requests
from handlers.context import DomainError
from handlers.order_status import CustomerContext, ServicePolicy, contact_label, find_binding
from handlers.outcome import Outcome, Text
from handlers.wording import customer_service as wording
from models.base import utcnow
from models.crm import Contact, Customer
from models.db import Database
from models.messages import InboundMessage, InboxStatus, OutboundMessage, OutboxStatus
from models.service import KfCursor, KfMessageLog, ServiceRequestKind

log = logging.getLogger(__name__)

KF_CHANNEL = "kf"
KF_EVENT = "kf_msg_or_event"
# WeCom lets kf/send_msg send 5 messages within 48 hours of the customer's last message.
REPLY_WINDOW = timedelta(hours=48)
REPLIES_PER_WINDOW = 5
# 95001: send count limit; 95002: send time limit; 95018: the session state does not allow sending.
WINDOW_ERRCODES = frozenset({95001, 95002, 95018})
MAX_SYNC_PAGES = 50


class KfSettings(BaseSettings):
    """Customer service limits, read from `KF_*` environment variables and `.env`."""

    model_config = SettingsConfigDict(env_prefix="KF_", env_file=".env", env_file_encoding="utf-8", extra="ignore")

    sync_limit: int = Field(default=SYNC_LIMIT_MAX, ge=1, le=SYNC_LIMIT_MAX, description="messages per kf/sync_msg page")
    failed_lookup_limit: int = Field(default=5, ge=1, description="failed number lookups allowed per customer in the window")
    failed_lookup_window_seconds: int = Field(default=600, gt=0, description="seconds the failed lookup count covers")
    response_hours: float = Field(default=4.0, gt=0, description="hours a rep has to call back after a service request")
    binding_code_hours: float = Field(default=24.0, gt=0, description="hours a binding code stays valid")
    service_phone: str | None = Field(default=None, description="phone number unbound customers are told to call")

    def policy(self) -> ServicePolicy:
        return ServicePolicy(
            failed_lookup_limit=self.failed_lookup_limit,
            failed_lookup_window=timedelta(seconds=self.failed_lookup_window_seconds),
            response_time=timedelta(hours=self.response_hours),
            binding_code_ttl=timedelta(hours=self.binding_code_hours),
            service_phone=self.service_phone,
        )


@lru_cache
def get_kf_settings() -> KfSettings:
    return KfSettings()


class KfSyncFailed(Exception):
    """Raised when `kf/sync_msg` returns an errcode; the inbox retries the event."""


def is_kf(message: InboundMessage) -> bool:
    return message.channel == KF_CHANNEL or message.event == KF_EVENT


def process(runtime: Runtime, session: Session, message: InboundMessage) -> str:
    """Sync messages for a kf event, or reply to a customer message, and mark the inbox row done."""
    if message.channel == KF_CHANNEL:
        intent = _answer(session, message)
    else:
        intent = f"kf_synced:{_sync(runtime, session, message)}"
    message.status = InboxStatus.DONE
    message.processed_at = utcnow()
    message.error = None
    return intent


def enqueue_failure_reply(session: Session, message: InboundMessage) -> None:
    """Apologise to the customer whose message failed for good; a failed sync event has no customer to notify."""
    if message.channel == KF_CHANNEL:
        reply = Text(wording.PROCESSING_FAILED)
        enqueue_kf_reply(session, message.payload["open_kfid"], message.from_user, reply, dedup_key=f"kf-failed:{message.id}", in_reply_to=message.id)


# -- syncing ---------------------------------------------------------------------------------


def _sync(runtime: Runtime, session: Session, event: InboundMessage) -> int:
    """Store every new customer message of the event's account and return how many were new.

    The cursor moves in the same transaction as the stored rows, so a crash repeats a page
    (deduplicated by msgid) instead of skipping one.
    """
    open_kfid = event.payload.get("OpenKfId") or ""
    token = event.payload.get("Token") or None
    cursor = session.get(KfCursor, open_kfid, with_for_update=True)
    if cursor is None:
        cursor = KfCursor(open_kfid=open_kfid)
        session.add(cursor)

    stored = 0
    with WeComClient.from_settings(runtime.settings, runtime.store) as client:
        kf = KfClient(client)
        for _page in range(MAX_SYNC_PAGES):
            result = kf.sync_msg(open_kfid=open_kfid or None, token=token, cursor=cursor.cursor, limit=get_kf_settings().sync_limit)
            if not result.ok and token:
                # The token lives 10 minutes; an event retried later syncs without it, at WeCom's stricter rate.
                log.warning("kf/sync_msg rejected the callback token: inbox_id=%d errcode=%s", event.id, result.errcode)
                token = None
                continue
            if not result.ok:
                raise KfSyncFailed(f"kf/sync_msg failed: errcode {result.errcode} {result.errmsg}")
            stored += sum(_store(session, item) for item in result.messages)
            cursor.cursor = result.next_cursor or cursor.cursor
            if not result.has_more:
                break
        else:
            log.warning("kf sync stopped after %d pages: inbox_id=%d", MAX_SYNC_PAGES, event.id)
    cursor.synced_at = utcnow()
    log.info("kf synced: inbox_id=%d open_kfid=%s stored=%d", event.id, open_kfid, stored)
    return stored


def _store(session: Session, item: KfMessage) -> bool:
    """Store a customer's message as an inbox row with its log row; return False for others and repeats."""
    if item.origin != ORIGIN_CUSTOMER or not item.msgid or not item.external_userid:
        log.info("kf message skipped: msgid=%s origin=%d msgtype=%s", item.msgid, item.origin, item.msgtype)
        return False
    sent_at = datetime.fromtimestamp(item.send_time, UTC)
    row = InboundMessage(
        dedup_key=f"kf:{item.msgid}", channel=KF_CHANNEL, msg_type=item.msgtype, from_user=item.external_userid,
        create_time=sent_at,
        payload={"msgid": item.msgid, "open_kfid": item.open_kfid, "msgtype": item.msgtype, item.msgtype: item.body},
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
            session.add(
                KfMessageLog(
                    msgid=item.msgid, open_kfid=item.open_kfid, external_userid=item.external_userid,
                    msgtype=item.msgtype, sent_at=sent_at, inbound_id=row.id,
                )
            )
            session.flush()
    except IntegrityError:
        return False
    return True


# -- answering -------------------------------------------------------------------------------


CONTRACT_NUMBER = re.compile(r"HT-\d{4}-\d{4,}", re.IGNORECASE)
REQUEST_NUMBER = re.compile(r"FW-\d{4}-\d{4,}", re.IGNORECASE)
BIND = re.compile(r"^绑定[\s:\uff1a]*(?P<code>\d{6})$")
# Order matters: the first kind whose words appear wins.
REQUEST_KINDS = (
    (ServiceRequestKind.RETURN, re.compile(r"退货|退换|换货|退回")),
    (ServiceRequestKind.QUALITY, re.compile(r"质量|破损|损坏|坏了|开裂|裂缝|不合格|受潮|结块|漏水|强度不够|有问题")),
    (ServiceRequestKind.DELIVERY_CHANGE, re.compile(r"改地址|换地址|改.{0,2}送货|改时间|改期|推迟|延期|提前送|晚点送|先别送|暂停发货|送货地址|送货时间")),
    (ServiceRequestKind.COMPLAINT, re.compile(r"投诉|不满意|态度差|太差了|差评")),
)
FILE_WORDS = re.compile(r"合同.{0,4}(文件|原件|电子版|扫描件|pdf|PDF)|(发|下载|要).{0,4}合同")
PAYMENT_WORDS = re.compile(r"付款|回款|余额|欠款|欠多少|还欠|应付|已付|尾款|对账|账款")
ORDER_WORDS = re.compile(r"货|物流|到哪|车牌|运单|订单|进度|合同|状态|发车|送到")


@dataclass(frozen=True)
class CustomerQuestion:
    """What a customer's text asks for; `topic` names the use case."""

    topic: str  # bind, request_status, open_request, file, payments, contract, open_contracts, help
    number: str | None = None
    code: str | None = None
    kind: ServiceRequestKind | None = None


def understand(text: str) -> CustomerQuestion:
    """Return what a customer's free text asks for; anything unclear is a request for help."""
    text = text.strip()
    if match := BIND.match(text):
        return CustomerQuestion("bind", code=match["code"])
    contract = CONTRACT_NUMBER.search(text)
    number = contract.group(0).upper() if contract else None
    if match := REQUEST_NUMBER.search(text):
        return CustomerQuestion("request_status", number=match.group(0).upper())
    for kind, words in REQUEST_KINDS:
        if words.search(text):
            return CustomerQuestion("open_request", number=number, kind=kind)
    if FILE_WORDS.search(text):
        return CustomerQuestion("file", number=number)
    if PAYMENT_WORDS.search(text):
        return CustomerQuestion("payments", number=number)
    if number:
        return CustomerQuestion("contract", number=number)
    if ORDER_WORDS.search(text):
        return CustomerQuestion("open_contracts")
    return CustomerQuestion("help")


def _answer(session: Session, message: InboundMessage) -> str:
    policy = get_kf_settings().policy()
    cctx = CustomerContext(
        session=session, external_userid=message.from_user, now=message.create_time,
        binding=find_binding(session, message.from_user), source_message_id=message.id,
    )
    text = (message.payload.get("text") or {}).get("content", "") if message.msg_type == "text" else None
    try:
        with session.begin_nested():
            outcome, intent = _route(cctx, policy, text)
    except DomainError as error:
        outcome, intent = Outcome.text(error.message), f"kf_rejected:{error.code}"

    open_kfid = message.payload["open_kfid"]
    for index, reply in enumerate(outcome.replies):
        enqueue_kf_reply(session, open_kfid, message.from_user, reply, dedup_key=f"kf-reply:{message.id}:{index}", in_reply_to=message.id)
    for notification in outcome.notifications:
        enqueue_reply(session, notification.recipient, notification.reply, dedup_key=notification.dedup_key)
    return intent


def _route(cctx: CustomerContext, policy: ServicePolicy, text: str | None) -> tuple[Outcome, str]:
    question = understand(text) if text is not None else None
    if question is not None and question.topic == "bind":
        return order_status.bind_with_code(cctx, policy, question.code), "kf_bind"
    if cctx.binding is None:
        return order_status.unbound_reply(cctx, policy), "kf_unbound"
    if question is None:
        # TODO: keep photos and files of damaged goods with the customer's latest service request.
        return Outcome.text(wording.UNSUPPORTED_TYPE), "kf_unsupported"

    match question.topic:
        case "request_status":
            outcome = service_requests.request_status(cctx, policy, question.number)
        case "open_request":
            outcome = service_requests.open_request(cctx, policy, question.kind, text)
        case "file":
            outcome = order_status.contract_file(cctx, policy, question.number)
        case "payments":
            outcome = order_status.payments(cctx, policy, question.number)
        case "contract":
            outcome = order_status.contract_status(cctx, policy, question.number)
        case "open_contracts":
            outcome = order_status.open_contracts(cctx)
        case _:
            outcome = order_status.help_reply(cctx)
    return outcome, f"kf_{question.topic}"


# -- sending ---------------------------------------------------------------------------------


def may_send(db: Database, row: OutboundMessage) -> bool:
    """Return whether a `kf` row fits WeCom's reply window; otherwise hand it to the owner rep and cancel it.

    NOTE: two sender processes checking at the same moment can each see room for the 5th
    reply; WeCom then rejects one with 95001 and that reply is handed over too.
    """
    with db.session() as session:
        latest = session.scalars(
            select(KfMessageLog).where(KfMessageLog.external_userid == row.recipient)
            .order_by(KfMessageLog.sent_at.desc(), KfMessageLog.id.desc()).limit(1)
        ).first()
        reason = None
        if latest is None or utcnow() > latest.sent_at + REPLY_WINDOW:
            reason = "window_expired"
        elif _replies_since(session, row.recipient, latest) >= REPLIES_PER_WINDOW:
            reason = "count_exhausted"
        if reason is None:
            return True
        session.execute(
            update(OutboundMessage).where(OutboundMessage.id == row.id)
            .values(status=OutboxStatus.CANCELLED, errmsg=f"kf reply window closed: {reason}")
        )
        _hand_over(session, row, reason)
    return False


def _replies_since(session: Session, external_userid: str, latest: KfMessageLog) -> int:
    """Count the replies sent to the customer after their latest message.

    WeCom gives send times in whole seconds, so a reply sent within that second counts when it
    answers this message or a later one, or went out after the message was synced. A reply to
    an earlier message sent just before the sync in that same second is not counted.
    """
    after_latest = or_(
        OutboundMessage.sent_at >= latest.sent_at + timedelta(seconds=1),
        OutboundMessage.in_reply_to >= latest.inbound_id,
        OutboundMessage.sent_at > latest.created_at,
    )
    return session.scalar(
        select(func.count()).select_from(OutboundMessage).where(
            OutboundMessage.kind == "kf", OutboundMessage.recipient == external_userid,
            OutboundMessage.status == OutboxStatus.SENT, after_latest,
        )
    )


def send(db: Database, client: WeComClient, row: OutboundMessage) -> SendResult:
    """Send a `kf` row with `kf/send_msg`, uploading a file first; record the first response time."""
    payload = dict(row.payload)
    open_kfid = payload.pop("open_kfid")
    kind = payload["msgtype"]
    if kind in ("image", "file"):
        media = client.upload_media(kind, payload["path"])
        if not media.ok:
            return SendResult(ok=False, errcode=media.errcode, errmsg=media.errmsg, msgid=None)
        payload = {"msgtype": kind, kind: {"media_id": media.media_id}}

    result = KfClient(client).send_msg(open_kfid, row.recipient, payload, msgid=f"zs{row.id}")
    with db.session() as session:
        if result.ok and row.in_reply_to is not None:
            session.execute(
                update(KfMessageLog)
                .where(KfMessageLog.inbound_id == row.in_reply_to, KfMessageLog.first_response_at.is_(None))
                .values(first_response_at=utcnow())
            )
        elif result.errcode in WINDOW_ERRCODES:
            log.warning("kf reply rejected by WeCom's reply window: outbox_id=%d errcode=%s", row.id, result.errcode)
            _hand_over(session, row, "rejected")
    return result


def _hand_over(session: Session, row: OutboundMessage, reason: str) -> None:
    """Tell the customer's owner rep what the bot could not send, so that a person replies."""
    if row.in_reply_to is not None:
        session.execute(
            update(KfMessageLog)
            .where(KfMessageLog.inbound_id == row.in_reply_to, KfMessageLog.handed_over_at.is_(None))
            .values(handed_over_at=utcnow())
        )
    binding = find_binding(session, row.recipient)
    customer = session.get(Customer, binding.customer_id) if binding is not None else None
    if customer is None or customer.owner is None:
        log.warning("kf reply dropped: no owner rep to hand it over to: outbox_id=%d reason=%s", row.id, reason)
        return
    contact = session.get(Contact, binding.contact_id)
    reply = row.payload.get("text", {}).get("content") or f"[{row.payload.get('name') or row.kind}]"
    notice = wording.handover_notice(customer.name, contact_label(contact), wording.HANDOVER_REASONS[reason], reply)
    enqueue_reply(session, customer.owner.userid, Text(notice), dedup_key=f"kf-handover:{row.id}")
    log.info("kf reply handed over: outbox_id=%d customer_id=%d reason=%s", row.id, customer.id, reason)
