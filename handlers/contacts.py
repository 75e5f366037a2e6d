"""Creating and updating a customer's contacts from the people a note names."""

from sqlalchemy import select

from handlers.changes import ChangeBatch
from handlers.context import Context
from models.crm import Contact, Customer


def _same_person(contact: Contact, name: str, title: str | None) -> bool:
    """Tell whether a stored contact is the person a note names.

    Notes often give a surname only (王经理), so a surname matches a full name that starts with
    it when the titles do not contradict each other.
    """
    if contact.name == name:
        return True
    short, full = sorted((contact.name, name), key=len)
    if len(short) == 1 and full.startswith(short):
        return not (title and contact.title and title != contact.title)
    return False


def upsert_contact(
    ctx: Context, batch: ChangeBatch, customer: Customer, name: str, title: str | None, phone: str | None
) -> tuple[Contact, bool]:
    """Return the customer's contact of that name, created or updated, and whether it is new."""
    contacts = ctx.session.scalars(select(Contact).where(Contact.customer_id == customer.id)).all()
    match = next((c for c in contacts if _same_person(c, name, title)), None)
    if match is None:
        contact = Contact(customer_id=customer.id, name=name, title=title, phones=[phone] if phone else [])
        ctx.session.add(contact)
        batch.created(contact)
        return contact, True

    batch.updating(match)
    if len(name) > len(match.name):
        match.name = name
    if title and title != match.title:
        match.title = title
    if phone and phone not in match.phones:
        match.phones = [*match.phones, phone]
    return match, False
