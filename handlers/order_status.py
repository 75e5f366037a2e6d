"""Order status for customers in WeChat customer service, and the records behind it.

A customer sees only the contracts, shipments and payments of the company their
`external_userid` is bound to. Lookups by number that find nothing the customer may see (an
unknown number, another company's number, a wrong binding code) get the same answer, are
logged with ids, and are rate-limited per `external_userid`.
"""

import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handlers.access import can_change_deals, can_see_customer
from handlers.changes import ChangeBatch
from handlers.context import SHANGHAI, Context, DomainError
from handlers.customers import find_customers
from handlers.outcome import File, Notification, Outcome, Text
from handlers.wording import customer_service as wording
from handlers.wording import pool as pool_wording
from handlers.wording.format import fit_reply, money, quantity
from models.commerce import Contract, Payment, Shipment
from models.crm import Contact, Customer
from models.org import CompanySetting, User
from models.service import BindingCode, BindingMethod, ExternalBinding, KfLookupFailure

log = logging.getLogger(__name__)

# Contract statuses a customer may see, and which of them are still being delivered.
CUSTOMER_VISIBLE_STATUSES = ("approved", "signed", "completed")
OPEN_STATUSES = ("approved", "signed")
BINDING_CODE_DIGITS = 6


@dataclass(frozen=True)
class ServicePolicy:
    """Limits of customer service; `bot.kf_channel.KfSettings` reads them from the environment."""

    failed_lookup_limit: int = 5
    failed_lookup_window: timedelta = timedelta(minutes=10)
    response_time: timedelta = timedelta(hours=4)
    binding_code_ttl: timedelta = timedelta(hours=24)
    service_phone: str | None = None


@dataclass
class CustomerContext:
    """What a customer-facing use case receives: the transaction, who asks, and when.

    `binding` is None for a WeChat customer nobody has bound yet; such a customer sees no data.
    """

    session: Session
    external_userid: str
    now: datetime
    binding: ExternalBinding | None = None
    source_message_id: int | None = None

    @property
    def today(self) -> date:
        return self.now.astimezone(SHANGHAI).date()

    @property
    def customer(self) -> Customer:
        assert self.binding is not None
        return self.session.get(Customer, self.binding.customer_id)

    @property
    def contact(self) -> Contact:
        assert self.binding is not None
        return self.session.get(Contact, self.binding.contact_id)


def find_binding(session: Session, external_userid: str) -> ExternalBinding | None:
    return session.scalars(select(ExternalBinding).where(ExternalBinding.external_userid == external_userid)).first()


def contact_label(contact: Contact | None) -> str:
    """Return how to address a contact: 王经理 from name 王 and title 经理, else the name."""
    if contact is None:
        return ""
    if contact.title and not contact.name.endswith(contact.title):
        return f"{contact.name}{contact.title}" if len(contact.name) == 1 else contact.name
    return contact.name


def _owner_name(customer: Customer) -> str | None:
    return customer.owner.name if customer.owner is not None else None


# -- failed lookups --------------------------------------------------------------------------


def lookups_blocked(cctx: CustomerContext, policy: ServicePolicy) -> bool:
    """Return whether the customer failed too many lookups within the window to try another now."""
    since = cctx.now - policy.failed_lookup_window
    failures = cctx.session.scalar(
        select(func.count()).select_from(KfLookupFailure).where(
            KfLookupFailure.external_userid == cctx.external_userid, KfLookupFailure.at > since
        )
    )
    return failures >= policy.failed_lookup_limit


def blocked_reply(cctx: CustomerContext, policy: ServicePolicy) -> Outcome:
    log.warning("kf lookup rate-limited: external_userid=%s inbound_id=%s", cctx.external_userid, cctx.source_message_id)
    owner = _owner_name(cctx.customer) if cctx.binding else None
    minutes = int(policy.failed_lookup_window.total_seconds() // 60)
    return Outcome.text(wording.TOO_MANY_LOOKUPS.format(minutes=minutes, owner=wording.owner_suffix(owner)))


def record_failed_lookup(cctx: CustomerContext, kind: str, query: str, found_id: int | None) -> None:
    """Store and log a lookup that found nothing the customer may see; `found_id` is another company's row."""
    cctx.session.add(
        KfLookupFailure(
            external_userid=cctx.external_userid, kind=kind, query=query[:64], found_id=found_id,
            inbound_id=cctx.source_message_id, at=cctx.now,
        )
    )
    log.warning(
        "kf lookup failed: external_userid=%s binding_id=%s kind=%s found_id=%s inbound_id=%s",
        cctx.external_userid, cctx.binding.id if cctx.binding else None, kind, found_id, cctx.source_message_id,
    )


# -- binding WeChat customers to contacts ----------------------------------------------------


def _company_name(session: Session) -> str:
    setting = session.get(CompanySetting, "company")
    return setting.value if setting is not None else ""


def unbound_reply(cctx: CustomerContext, policy: ServicePolicy) -> Outcome:
    """Reply to an unbound customer with how to bind and how to reach a person, and no data."""
    text = wording.UNBOUND.format(company=_company_name(cctx.session), reach=wording.reach(policy.service_phone))
    return Outcome.text(text)


def _customer_for_rep(ctx: Context, query: str) -> Customer:
    matches = [c for c in find_customers(ctx, query) if can_see_customer(ctx.actor, c)]
    if not matches:
        raise DomainError(wording.CUSTOMER_NOT_FOUND.format(query=query), "not_found")
    if len(matches) > 1:
        raise DomainError(pool_wording.several(query, [c.name for c in matches]), "ambiguous")
    return matches[0]


def _matches_contact(contact: Contact, written: str) -> bool:
    """Whether `written` (王经理, 王建国 or 王) names the contact."""
    if written in (contact.name, contact_label(contact), f"{contact.name}{contact.title or ''}"):
        return True
    return bool(contact.title) and written == f"{contact.name[:1]}{contact.title}"


def _contact_for(ctx: Context, batch: ChangeBatch, customer: Customer, written: str) -> Contact:
    """Return the customer's contact that `written` names, created when there is none."""
    contacts = ctx.session.scalars(select(Contact).where(Contact.customer_id == customer.id)).all()
    matches = [c for c in contacts if _matches_contact(c, written)]
    if len(matches) > 1:
        names = "、".join(c.name for c in matches)
        raise DomainError(wording.SEVERAL_CONTACTS.format(customer=customer.name, name=written, names=names), "ambiguous")
    if matches:
        return matches[0]
    contact = Contact(customer_id=customer.id, name=written)
    ctx.session.add(contact)
    batch.created(contact)
    return contact


def _bind(session: Session, external_userid: str, customer: Customer, contact: Contact, method: str, bound_by: int | None) -> str | None:
    """Bind the WeChat customer to the contact; return the name of the customer it was bound to before."""
    binding = find_binding(session, external_userid)
    previous = None
    if binding is None:
        binding = ExternalBinding(external_userid=external_userid)
        session.add(binding)
    elif binding.customer_id != customer.id or binding.contact_id != contact.id:
        previous = session.get(Customer, binding.customer_id).name
    binding.customer_id = customer.id
    binding.contact_id = contact.id
    binding.method = method
    binding.bound_by_id = bound_by
    session.flush()
    return previous


def bind_customer(ctx: Context, customer_query: str, contact_name: str, external_userid: str) -> Outcome:
    """Bind a WeChat customer to a contact of one of the rep's customers."""
    customer = _customer_for_rep(ctx, customer_query)
    if not can_change_deals(ctx.actor, customer):
        raise DomainError(wording.NOT_YOURS.format(customer=customer.name), "forbidden")
    batch = ChangeBatch(ctx.session, ctx.actor.id, "bind_external_user", ctx.source_message_id)
    contact = _contact_for(ctx, batch, customer, contact_name)
    previous = _bind(ctx.session, external_userid, customer, contact, BindingMethod.REP, ctx.actor.id)
    batch.finish()
    log.info("kf customer bound by rep: external_userid=%s contact_id=%d user_id=%d", external_userid, contact.id, ctx.actor.id)
    return Outcome.text(wording.bound_by_rep(customer.name, contact_label(contact), external_userid, previous))


def create_binding_code(ctx: Context, policy: ServicePolicy, customer_query: str, contact_name: str) -> Outcome:
    """Issue a one-time code that binds whoever sends it in customer service to the contact."""
    customer = _customer_for_rep(ctx, customer_query)
    if not can_change_deals(ctx.actor, customer):
        raise DomainError(wording.NOT_YOURS.format(customer=customer.name), "forbidden")
    batch = ChangeBatch(ctx.session, ctx.actor.id, "create_binding_code", ctx.source_message_id)
    contact = _contact_for(ctx, batch, customer, contact_name)
    batch.finish()

    # Codes only need to be unique among those still usable.
    while True:
        code = f"{secrets.randbelow(10**BINDING_CODE_DIGITS):0{BINDING_CODE_DIGITS}d}"
        if _usable_code(ctx.session, code, ctx.now) is None:
            break
    expires_at = ctx.now + policy.binding_code_ttl
    ctx.session.add(
        BindingCode(
            code=code, customer_id=customer.id, contact_id=contact.id, created_by_id=ctx.actor.id,
            created_at=ctx.now, expires_at=expires_at,
        )
    )
    log.info("binding code created: contact_id=%d user_id=%d", contact.id, ctx.actor.id)
    return Outcome.text(wording.code_created(code, customer.name, contact_label(contact), expires_at))


def _usable_code(session: Session, code: str, now: datetime) -> BindingCode | None:
    return session.scalars(
        select(BindingCode).where(BindingCode.code == code, BindingCode.used_at.is_(None), BindingCode.expires_at > now)
    ).first()


def bind_with_code(cctx: CustomerContext, policy: ServicePolicy, code: str) -> Outcome:
    """Bind the customer who sent a valid one-time code, and tell the rep who issued it."""
    if lookups_blocked(cctx, policy):
        return blocked_reply(cctx, policy)
    issued = _usable_code(cctx.session, code, cctx.now)
    if issued is None:
        record_failed_lookup(cctx, "binding_code", code, None)
        return Outcome.text(wording.BAD_CODE)

    customer = cctx.session.get(Customer, issued.customer_id)
    contact = cctx.session.get(Contact, issued.contact_id)
    _bind(cctx.session, cctx.external_userid, customer, contact, BindingMethod.CODE, issued.created_by_id)
    issued.used_at = cctx.now
    issued.used_by = cctx.external_userid
    cctx.binding = find_binding(cctx.session, cctx.external_userid)
    log.info("kf customer bound by code: external_userid=%s contact_id=%d", cctx.external_userid, contact.id)

    outcome = Outcome.text(wording.BOUND.format(contact=contact_label(contact), customer=customer.name, menu=wording.MENU))
    rep = cctx.session.get(User, issued.created_by_id)
    if rep is not None and rep.active:
        notice = Text(wording.customer_bound_notice(customer.name, contact_label(contact)))
        outcome.notifications.append(Notification(rep.userid, notice, dedup_key=f"kf-bound:{issued.id}"))
    return outcome


# -- what a bound customer may ask -----------------------------------------------------------


def help_reply(cctx: CustomerContext) -> Outcome:
    return Outcome.text(wording.HELP.format(contact=contact_label(cctx.contact)))


def _visible_contracts(cctx: CustomerContext, statuses: Iterable[str]) -> list[Contract]:
    return list(
        cctx.session.scalars(
            select(Contract)
            .where(Contract.customer_id == cctx.binding.customer_id, Contract.status.in_(list(statuses)))
            .order_by(Contract.created_at, Contract.id)
        )
    )


def _find_visible_contract(cctx: CustomerContext, number: str) -> Contract | None:
    """Return the contract when the customer may see it; otherwise record the failed lookup."""
    contract = cctx.session.scalars(select(Contract).where(Contract.number == number)).first()
    if contract is not None and contract.customer_id == cctx.binding.customer_id and contract.status in CUSTOMER_VISIBLE_STATUSES:
        return contract
    foreign_id = contract.id if contract is not None else None
    record_failed_lookup(cctx, "contract", number, foreign_id)
    return None


def _payment_summary(cctx: CustomerContext, contract: Contract) -> str:
    payments = cctx.session.scalars(select(Payment).where(Payment.contract_id == contract.id)).all()
    paid = sum((p.amount for p in payments if p.received_on is not None), Decimal(0))
    planned = sorted((p.planned_on, p.amount) for p in payments if p.received_on is None and p.planned_on is not None)
    balance = max(contract.amount - paid, Decimal(0))
    return wording.payment_line(paid, balance, planned[0] if planned else None, cctx.today)


def _contract_details(cctx: CustomerContext, contract: Contract, with_payments: bool = True) -> list[str]:
    lines = [wording.contract_heading(contract.number, contract.status, contract.signed_on, contract.amount, cctx.today)]
    shipments = cctx.session.scalars(
        select(Shipment).where(Shipment.contract_id == contract.id).order_by(Shipment.batch_no, Shipment.id)
    ).all()
    if shipments:
        total = sum((s.quantity for s in shipments), Decimal(0))
        units = {s.unit for s in shipments}
        summary = f"已发货 {len(shipments)} 批" + (f",共 {quantity(total, units.pop())}" if len(units) == 1 else "")
        lines.append(summary + ":")
        lines += [
            wording.shipment_line(s.batch_no, s.quantity, s.unit, s.shipped_on, s.vehicle_plate, s.waybill_no, cctx.today)
            for s in shipments
        ]
    else:
        lines.append("还没有发货记录。")
    if with_payments:
        lines.append(_payment_summary(cctx, contract))
    return lines


def open_contracts(cctx: CustomerContext) -> Outcome:
    """Reply to 我的货到哪了 with every open contract of the customer's company with its shipments."""
    customer = cctx.customer
    contracts = _visible_contracts(cctx, OPEN_STATUSES)
    if not contracts:
        return _no_contracts_reply(customer)
    lines = [f"{contact_label(cctx.contact)},您好。「{customer.name}」在执行的合同:"]
    for contract in contracts:
        lines.append("")
        lines += _contract_details(cctx, contract, with_payments=False)
    lines += ["", "查询单个合同的付款情况请发合同编号,例如「查一下 " + contracts[0].number + "」。"]
    return Outcome.text(fit_reply("\n".join(lines)))


def _lookup_contract(cctx: CustomerContext, policy: ServicePolicy, number: str) -> Contract | Outcome:
    """Return the visible contract with that number, or the reply to a blocked or failed lookup."""
    if lookups_blocked(cctx, policy):
        return blocked_reply(cctx, policy)
    contract = _find_visible_contract(cctx, number)
    if contract is None:
        return Outcome.text(wording.CONTRACT_NOT_FOUND.format(number=number))
    return contract


def _no_contracts_reply(customer: Customer) -> Outcome:
    return Outcome.text(wording.NO_OPEN_CONTRACTS.format(customer=customer.name, owner=wording.owner_suffix(_owner_name(customer))))


def contract_status(cctx: CustomerContext, policy: ServicePolicy, number: str) -> Outcome:
    """Answer a question about one contract by number: status, shipments and payments."""
    contract = _lookup_contract(cctx, policy, number)
    if isinstance(contract, Outcome):
        return contract
    return Outcome.text(fit_reply("\n".join(_contract_details(cctx, contract))))


def payments(cctx: CustomerContext, policy: ServicePolicy, number: str | None) -> Outcome:
    """Reply with what was paid and what is still due, for one contract or for every visible one."""
    if number is not None:
        contract = _lookup_contract(cctx, policy, number)
        if isinstance(contract, Outcome):
            return contract
        contracts = [contract]
    else:
        contracts = _visible_contracts(cctx, CUSTOMER_VISIBLE_STATUSES)
    if not contracts:
        customer = cctx.customer
        return _no_contracts_reply(customer)
    lines = [f"「{cctx.customer.name}」的付款情况:"]
    for contract in contracts:
        lines.append(f"{contract.number}(金额 {money(contract.amount)}):{_payment_summary(cctx, contract)}")
    return Outcome.text(fit_reply("\n".join(lines)))


def contract_file(cctx: CustomerContext, policy: ServicePolicy, number: str | None) -> Outcome:
    """Send a contract's file; without a number, the only visible contract's, else ask which one."""
    if number is not None:
        contract = _lookup_contract(cctx, policy, number)
        if isinstance(contract, Outcome):
            return contract
    else:
        contracts = _visible_contracts(cctx, CUSTOMER_VISIBLE_STATUSES)
        customer = cctx.customer
        if not contracts:
            return _no_contracts_reply(customer)
        if len(contracts) > 1:
            numbers = "\n".join(c.number for c in contracts)
            return Outcome.text(wording.SEVERAL_FILES.format(example=contracts[0].number, numbers=numbers))
        contract = contracts[0]

    customer = cctx.customer
    if contract.file_path:
        name = f"{contract.number}{_suffix(contract.file_path)}"
        return Outcome(replies=[Text(wording.FILE_CAPTION.format(number=contract.number)), File(contract.file_path, name)])

    outcome = Outcome.text(wording.FILE_NOT_READY.format(number=contract.number, owner=wording.owner_suffix(_owner_name(customer))))
    if customer.owner is not None:
        notice = Text(wording.file_missing_notice(customer.name, contact_label(cctx.contact), contract.number))
        outcome.notifications.append(Notification(customer.owner.userid, notice, dedup_key=f"kf-file:{cctx.source_message_id}"))
    return outcome


def _suffix(path: str) -> str:
    dot = path.rfind(".")
    return path[dot:] if dot > path.rfind("/") else ""


# -- shipments -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShipmentRecord:
    """One batch against a contract, as a rep writes it in chat or a row of an import file."""

    contract_number: str
    batch_no: int
    quantity: Decimal
    unit: str
    shipped_on: date | None = None
    vehicle_plate: str | None = None
    waybill_no: str | None = None
    delivered_on: date | None = None


def save_shipment(session: Session, contract: Contract, record: ShipmentRecord) -> tuple[Shipment, bool]:
    """Create the contract's batch, or update it when that batch number exists; the flag is True when it existed."""
    shipment = session.scalars(
        select(Shipment).where(Shipment.contract_id == contract.id, Shipment.batch_no == record.batch_no)
    ).first()
    existed = shipment is not None
    if shipment is None:
        shipment = Shipment(contract_id=contract.id, batch_no=record.batch_no)
        session.add(shipment)
    shipment.quantity = record.quantity
    shipment.unit = record.unit
    shipment.shipped_on = record.shipped_on or shipment.shipped_on
    shipment.delivered_on = record.delivered_on or shipment.delivered_on
    shipment.vehicle_plate = record.vehicle_plate or shipment.vehicle_plate
    shipment.waybill_no = record.waybill_no or shipment.waybill_no
    session.flush()
    return shipment, existed


def record_shipment(ctx: Context, customer_query: str, record: ShipmentRecord) -> Outcome:
    """Record a batch a rep or the warehouse reports in chat, shipped today unless the record says otherwise."""
    customer = _customer_for_rep(ctx, customer_query)
    contract = ctx.session.scalars(
        select(Contract).where(Contract.number == record.contract_number, Contract.customer_id == customer.id)
    ).first()
    if contract is None:
        raise DomainError(wording.CONTRACT_UNKNOWN.format(customer=customer.name, number=record.contract_number), "not_found")
    if contract.status not in ("signed", "completed"):
        status = wording.CONTRACT_STATUS_LABELS.get(contract.status, contract.status)
        raise DomainError(wording.CONTRACT_NOT_SIGNED.format(number=contract.number, status=status), "invalid")

    batch = ChangeBatch(ctx.session, ctx.actor.id, "record_shipment", ctx.source_message_id)
    existing = ctx.session.scalars(
        select(Shipment).where(Shipment.contract_id == contract.id, Shipment.batch_no == record.batch_no)
    ).first()
    if existing is not None:
        batch.updating(existing)
    dated = record if record.shipped_on else ShipmentRecord(**{**record.__dict__, "shipped_on": ctx.today})
    shipment, existed = save_shipment(ctx.session, contract, dated)
    if not existed:
        batch.created(shipment)
    batch.finish()
    log.info("shipment recorded: contract_id=%d batch_no=%d user_id=%d", contract.id, shipment.batch_no, ctx.actor.id)
    return Outcome.text(
        wording.shipment_recorded(
            contract.number, shipment.batch_no, shipment.quantity, shipment.unit, shipment.vehicle_plate, shipment.waybill_no, existed
        )
    )


SHIPMENT_COLUMNS = ("contract_number", "batch_no", "quantity", "unit", "shipped_on", "vehicle_plate", "waybill_no", "delivered_on")


def _optional_date(value: str | None) -> date | None:
    return date.fromisoformat(value.strip()) if value and value.strip() else None


def parse_shipment_rows(rows: Iterable[dict[str, str]]) -> tuple[list[ShipmentRecord], list[str]]:
    """Read import rows with the SHIPMENT_COLUMNS headers; return the records and one error per bad row.

    Dates are ISO (2026-06-01); shipped_on, vehicle_plate, waybill_no and delivered_on may be empty.
    Row numbers in errors count the header as line 1.
    """
    records, errors = [], []
    for line, row in enumerate(rows, start=2):
        try:
            number = (row.get("contract_number") or "").strip().upper()
            unit = (row.get("unit") or "").strip()
            if not number or not unit:
                raise ValueError("contract_number and unit are required")
            batch_no = int((row.get("batch_no") or "").strip())
            amount = Decimal((row.get("quantity") or "").strip())
            if batch_no < 1 or amount <= 0:
                raise ValueError("batch_no and quantity must be positive")
            records.append(
                ShipmentRecord(
                    contract_number=number, batch_no=batch_no, quantity=amount, unit=unit,
                    shipped_on=_optional_date(row.get("shipped_on")),
                    vehicle_plate=(row.get("vehicle_plate") or "").strip().upper() or None,
                    waybill_no=(row.get("waybill_no") or "").strip() or None,
                    delivered_on=_optional_date(row.get("delivered_on")),
                )
            )
        except (ValueError, ArithmeticError) as error:
            errors.append(f"line {line}: {error}")
    return records, errors


def import_shipments(session: Session, records: list[ShipmentRecord]) -> tuple[int, int, list[str]]:
    """Save every record, matched by contract number and batch; return (created, updated, errors).

    Records whose contract is unknown become errors; the caller decides whether to commit.
    """
    created = updated = 0
    errors = []
    for record in records:
        contract = session.scalars(select(Contract).where(Contract.number == record.contract_number)).first()
        if contract is None:
            errors.append(f"contract {record.contract_number} not found")
            continue
        _, existed = save_shipment(session, contract, record)
        updated += existed
        created += not existed
    return created, updated, errors
