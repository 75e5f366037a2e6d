"""Text messages: replies to the bot's questions, commands and visit notes, routed to their use cases."""

import logging
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from bot.dialogue import DialogueStore, Mention, PendingNote
from bot.kf_channel import get_kf_settings
from bot.lexicon_cache import bump_lexicon_version
from bot.outbox import cancel, enqueue_reply
from bot.runtime import Runtime
from bot.understanding import commands as cmd
from bot.understanding.dates import find_dates
from bot.understanding.evaluation import facts_to_expected
from bot.understanding.extract import extract_note
from bot.understanding.numbers import parse_number
from handlers import (
    approvals,
    contracts,
    corrections,
    customers,
    daily_tasks,
    opportunities,
    pool,
    quotes,
    service_followup,
)
from handlers import reports as report_use_cases
from handlers import order_status
from handlers.context import Context, DomainError
from handlers.notes import NewCustomer, record_note
from handlers.outcome import Outcome, Text
from handlers.wording import common as common_wording
from handlers.wording import dialogue as wording
from models.approval_rules import ApprovalRules, load_approval_rules
from models.base import utcnow
from models.crm import Customer
from models.messages import InboundMessage
from models.rules import PoolRules, load_rules

log = logging.getLogger(__name__)

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _local(ctx: Context):
    return ctx.now.astimezone(SHANGHAI)


def _prefixed(outcome: Outcome, prefix: str) -> Outcome:
    if prefix and outcome.replies and isinstance(outcome.replies[0], Text):
        outcome.replies[0] = Text(prefix + "\n\n" + outcome.replies[0].text)
    elif prefix:
        outcome.replies.insert(0, Text(prefix))
    return outcome


def handle_text(runtime: Runtime, ctx: Context, text: str) -> Outcome:
    text = text.strip()
    if not text:
        return Outcome.text(common_wording.HELP)
    reason = approvals.take_rejection_reason(ctx, text, runtime.settings.rejection_reason_ttl_seconds)
    if reason is not None:
        return reason
    command = cmd.parse_command(text)
    dialogues = DialogueStore(runtime.store, runtime.settings.dialogue_ttl_seconds)
    pending = dialogues.load(ctx.actor.userid)
    if pending is not None and pending.expired:
        dialogues.clear(ctx.actor.userid)
        pending = None

    if isinstance(command, cmd.Answer):
        if pending is None:
            return Outcome.text(common_wording.NO_QUESTION)
        return _answer(runtime, ctx, dialogues, pending, command)

    prefix = ""
    if pending is not None:
        cancel(ctx.session, pending.expiry_notice_ids)
        dialogues.clear(ctx.actor.userid)
        prefix = wording.ABANDONED
    if command is None:
        outcome = _note(runtime, ctx, dialogues, text)
    else:
        outcome = _command(runtime, ctx, command)
    return _prefixed(outcome, prefix)


def _command(runtime: Runtime, ctx: Context, command) -> Outcome:
    match command:
        case cmd.Help():
            return Outcome.text(common_wording.HELP)
        case cmd.Malformed(usage=usage):
            return Outcome.text(usage)
        case cmd.CreateCustomer(name=name, region=region, industry=industry):
            outcome = customers.create_customer(ctx, name, region, industry)
            bump_lexicon_version(runtime.store)
            return outcome
        case cmd.LookupCustomer(query=query):
            return customers.lookup_customer(ctx, query)
        case cmd.MyOpportunities():
            return opportunities.my_opportunities(ctx)
        case cmd.MyTasks():
            return opportunities.my_tasks(ctx)
        case cmd.TeamDaily():
            targets = daily_tasks.DailyTargets.from_settings(runtime.settings)
            return daily_tasks.team_report(ctx, load_rules(runtime.settings.pipeline_rules_path), targets)
        case cmd.MoveStage(customer_query=query, stage=stage, confirmed=confirmed):
            return opportunities.move_stage(ctx, query, stage, confirmed)
        case cmd.Undo():
            return corrections.undo_last(ctx)
        case cmd.ListPool(region=region, industry=industry):
            return pool.list_pool(ctx, region, industry)
        case cmd.ClaimCustomer(query=query):
            return pool.claim(ctx, _pool_rules(runtime), query)
        case cmd.AssignCustomer(query=query, assignee=assignee):
            return pool.assign(ctx, _pool_rules(runtime), query, assignee)
        case cmd.TakeBackCustomer(query=query, reason=reason):
            return pool.take_back(ctx, _pool_rules(runtime), query, reason)
        case cmd.CreateQuote(customer_query=query, items=items):
            return quotes.create_quote(ctx, _approval_rules(runtime), runtime.settings.quote_valid_days, query, items)
        case cmd.RequestDiscount():
            return quotes.request_discount(ctx, _approval_rules(runtime), command)
        case cmd.SubmitContract(target=target, amount=amount):
            return contracts.submit_contract(ctx, _approval_rules(runtime), target, amount)
        case cmd.Resubmit(number=number, amount=amount) if number.startswith("HT-"):
            return contracts.resubmit_contract(ctx, _approval_rules(runtime), number, amount)
        case cmd.Resubmit(number=number):
            return quotes.resubmit_quote(ctx, _approval_rules(runtime), number)
        case cmd.WithdrawApproval(number=number):
            return approvals.withdraw(ctx, number)
        case cmd.SignContract(number=number):
            return contracts.sign_contract(ctx, number)
        case cmd.PendingApprovals():
            return approvals.pending_for_approver(ctx)
        case cmd.ShowReport(kind=kind):
            return report_use_cases.show(ctx, kind)
        case cmd.BindExternalUser(customer_query=query, contact_name=contact, external_userid=external_userid):
            return order_status.bind_customer(ctx, query, contact, external_userid)
        case cmd.CreateBindingCode(customer_query=query, contact_name=contact):
            return order_status.create_binding_code(ctx, get_kf_settings().policy(), query, contact)
        case cmd.CloseServiceRequest(number=number, note=note):
            return service_followup.close_request(ctx, number, note)
        case cmd.RecordShipment():
            return order_status.record_shipment(ctx, command.customer_query, _shipment_record(command))
        case cmd.Correct(field="customer", value=value):
            return _recustomer(runtime, ctx, value)
        case cmd.Correct(field=field, value=value):
            return corrections.correct_last(ctx, field, _correction_value(ctx, field, value))
    raise AssertionError(f"unrouted command {command!r}")


def _pool_rules(runtime: Runtime) -> PoolRules:
    return load_rules(runtime.settings.pipeline_rules_path).pool


def _approval_rules(runtime: Runtime) -> ApprovalRules:
    return load_approval_rules(runtime.settings.approval_rules_path)


def _shipment_record(command: cmd.RecordShipment) -> order_status.ShipmentRecord:
    return order_status.ShipmentRecord(
        contract_number=command.contract_number, batch_no=command.batch_no, quantity=command.quantity,
        unit=command.unit, vehicle_plate=command.vehicle_plate, waybill_no=command.waybill_no,
    )


def _correction_value(ctx: Context, field: str, text: str):
    if field in ("amount", "payment_amount"):
        number = parse_number(text.removesuffix("元"))
        if number is None or number <= 0:
            raise DomainError(wording.BAD_AMOUNT.format(text=text))
        return Decimal(str(round(number, 2)))
    if field in ("due_date", "visit_date"):
        mentions = find_dates(text, _local(ctx))
        if not mentions:
            raise DomainError(wording.BAD_DATE.format(text=text))
        return mentions[0].value
    if field == "stage":
        stage = cmd.parse_stage(text)
        if stage is None:
            raise DomainError(wording.BAD_STAGE.format(text=text))
        return stage
    raise DomainError(cmd.CORRECT_USAGE)


# -- visit notes -----------------------------------------------------------------------------


def _mentions(facts) -> list[Mention]:
    return [
        Mention(
            written=m.written, name=m.name,
            customer_id=m.customer_id if isinstance(m.customer_id, int) else None,
            candidates=[c for c in m.candidates if isinstance(c, int)], is_new=m.is_new,
        )
        for m in facts.customers
    ]


def _note(runtime: Runtime, ctx: Context, dialogues: DialogueStore, text: str) -> Outcome:
    facts = extract_note(text, _local(ctx), runtime.lexicons.get())
    pending = PendingNote(inbound_id=ctx.source_message_id, mentions=_mentions(facts))
    return _continue(runtime, ctx, dialogues, pending, text, facts)


def _continue(runtime, ctx, dialogues, pending: PendingNote, text: str | None = None, facts=None) -> Outcome:
    """Ask the next open question, or record the note when every customer is settled."""
    index = pending.next_unresolved()
    if index is not None:
        return _ask(runtime, ctx, dialogues, pending, index)

    dialogues.clear(ctx.actor.userid)
    original = ctx.session.get(InboundMessage, pending.inbound_id)
    note_ctx = Context(session=ctx.session, actor=ctx.actor, now=original.create_time, source_message_id=original.id)
    if facts is None:
        text = original.payload.get("Content", "").strip()
        facts = extract_note(text, _local(note_ctx), runtime.lexicons.get())
    choices = []
    for i, mention in enumerate(pending.mentions):
        choice = pending.choices.get(i)
        if choice == "new":
            choices.append(NewCustomer(mention.name))
        elif isinstance(choice, int) and choice not in choices:
            choices.append(choice)
    outcome = record_note(note_ctx, text, facts, facts_to_expected(facts), choices)
    if any(isinstance(c, NewCustomer) for c in choices):
        bump_lexicon_version(runtime.store)
    return outcome


def _ask(runtime, ctx, dialogues, pending: PendingNote, index: int) -> Outcome:
    mention = pending.mentions[index]
    pending.asking = index
    if mention.candidates and len(mention.candidates) > 1:
        pending.options = mention.candidates[:9]
        names = [ctx.session.get(Customer, cid).name for cid in pending.options]
        question = wording.which_customer(mention.written, names)
    else:
        pending.options = []
        question = wording.new_customer(mention.name)

    if not pending.expiry_notice_ids:
        expires_at = utcnow() + timedelta(seconds=dialogues.ttl_seconds)
        rows = enqueue_reply(
            ctx.session, ctx.actor.userid, Text(wording.EXPIRED),
            dedup_key=f"dialogue-expired:{pending.inbound_id}", not_before=expires_at,
        )
        pending.expiry_notice_ids = [row.id for row in rows]
        pending.expires_at = expires_at.timestamp()
    dialogues.save(ctx.actor.userid, pending)
    log.info("note waits for the rep's reply: inbox_id=%d mention=%d", pending.inbound_id, index)
    return Outcome.text(question)


def _answer(runtime, ctx, dialogues, pending: PendingNote, answer: cmd.Answer) -> Outcome:
    if answer.cancel:
        cancel(ctx.session, pending.expiry_notice_ids)
        dialogues.clear(ctx.actor.userid)
        return Outcome.text(wording.CANCELLED)

    index = pending.asking
    if pending.options:
        if answer.choice == 0:
            pending.choices[index] = None
        elif answer.choice is not None and 1 <= answer.choice <= len(pending.options):
            pending.choices[index] = pending.options[answer.choice - 1]
        else:
            return Outcome.text(wording.bad_choice(len(pending.options)))
    elif answer.yes or answer.choice == 1:
        pending.choices[index] = "new"
    elif answer.choice == 2:
        pending.choices[index] = None
    else:
        return Outcome.text(wording.bad_choice(2))

    if pending.next_unresolved() is None:
        cancel(ctx.session, pending.expiry_notice_ids)
    return _continue(runtime, ctx, dialogues, pending)


def _recustomer(runtime: Runtime, ctx: Context, query: str) -> Outcome:
    """Move the last note to another customer: undo it, then record it again for that customer."""
    matches = customers.find_customers(ctx, query)
    if not matches:
        raise DomainError(wording.CUSTOMER_NOT_FOUND.format(query=query))
    if len(matches) > 1:
        raise DomainError(wording.several_customers(query, [c.name for c in matches]))
    activities = corrections.last_note_activities(ctx)
    inbound_id = activities[0].source_message_id
    corrections.revert_batch(ctx.session, corrections.last_batch(ctx.session, ctx.actor.id, labels=("note",)))
    pending = PendingNote(inbound_id=inbound_id, mentions=[Mention(query, matches[0].name, matches[0].id, [], False)])
    return _continue(runtime, ctx, DialogueStore(runtime.store, runtime.settings.dialogue_ttl_seconds), pending)
