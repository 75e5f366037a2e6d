"""Load a company (users, departments, customers, products, competitors) from world JSON.

The format is documented in docs/world-format.md. Loading is idempotent: rows are matched by
WeCom UserID, customer name, product name and competitor name, and updated in place.
"""

import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.crm import Competitor, Customer, Product, UnitSpelling
from models.org import CompanySetting, Department, Role, User

log = logging.getLogger(__name__)

CATALOG_VERSION_KEY = "catalog_version"


class WorldFormatError(ValueError):
    """Raised when world JSON misses a required key or names an unknown user or role."""


@dataclass
class ImportSummary:
    users: int = 0
    departments: int = 0
    customers: int = 0
    products: int = 0
    competitors: int = 0


def _required(item: dict, key: str, where: str):
    value = item.get(key)
    if value in (None, ""):
        raise WorldFormatError(f"{where}: missing required key {key!r}")
    return value


def _department(session: Session, name: str | None, cache: dict[str, Department]) -> Department | None:
    if not name:
        return None
    if name not in cache:
        department = session.scalar(select(Department).where(Department.name == name))
        if department is None:
            department = Department(name=name)
            session.add(department)
            session.flush()
        cache[name] = department
    return cache[name]


def _import_users(session: Session, users: list[dict], summary: ImportSummary) -> dict[str, User]:
    departments: dict[str, Department] = {}
    by_userid: dict[str, User] = {u.userid: u for u in session.scalars(select(User))}
    for index, item in enumerate(users):
        where = f"users[{index}]"
        userid = _required(item, "userid", where)
        role = _required(item, "role", where)
        if role not in set(Role):
            raise WorldFormatError(f"{where}: unknown role {role!r}; expected one of {', '.join(Role)}")
        user = by_userid.get(userid) or User(userid=userid)
        user.name = _required(item, "name", where)
        user.role = role
        user.department = _department(session, item.get("department"), departments)
        session.add(user)
        by_userid[userid] = user
        summary.users += 1
    session.flush()
    for index, item in enumerate(users):
        manager = item.get("manager")
        if manager and manager not in by_userid:
            raise WorldFormatError(f"users[{index}]: manager {manager!r} is not a user")
        by_userid[item["userid"]].manager_id = by_userid[manager].id if manager else None
    summary.departments = len(departments)
    return by_userid


def _import_customers(session: Session, customers: list[dict], users: dict[str, User], summary: ImportSummary) -> None:
    existing = {c.name: c for c in session.scalars(select(Customer))}
    for index, item in enumerate(customers):
        where = f"customers[{index}]"
        name = _required(item, "name", where)
        owner = item.get("owner")
        if owner and owner not in users:
            raise WorldFormatError(f"{where}: owner {owner!r} is not a user")
        customer = existing.get(name) or Customer(name=name)
        customer.aliases = list(item.get("aliases") or [])
        customer.region = item.get("region")
        customer.industry = item.get("industry")
        customer.tags = list(item.get("tags") or [])
        customer.owner_id = users[owner].id if owner else None
        session.add(customer)
        existing[name] = customer
        summary.customers += 1


def _import_catalog(session: Session, world: dict, summary: ImportSummary) -> None:
    products = {p.name: p for p in session.scalars(select(Product))}
    for index, item in enumerate(world.get("products") or []):
        where = f"products[{index}]"
        name = _required(item, "name", where)
        product = products.get(name) or Product(name=name)
        product.aliases = list(item.get("aliases") or [])
        product.unit = _required(item, "unit", where)
        product.list_price = item.get("list_price")
        product.floor_price = item.get("floor_price")
        session.add(product)
        products[name] = product
        summary.products += 1

    known = set(session.scalars(select(Competitor.name)))
    for name in world.get("competitors") or []:
        if name not in known:
            session.add(Competitor(name=name))
            known.add(name)
        summary.competitors += 1

    for unit, spellings in (world.get("units") or {}).items():
        for spelling in spellings:
            session.merge(UnitSpelling(spelling=spelling, unit=unit))


def import_world(session: Session, world: dict) -> ImportSummary:
    """Create or update every user, department, customer, product and competitor in `world`."""
    summary = ImportSummary()
    if world.get("company"):
        session.merge(CompanySetting(key="company_name", value=world["company"]))
    users = _import_users(session, world.get("users") or [], summary)
    _import_customers(session, world.get("customers") or [], users, summary)
    _import_catalog(session, world, summary)
    # Running bots rebuild their note lexicon when this value changes (aliases, units, names).
    session.merge(CompanySetting(key=CATALOG_VERSION_KEY, value=uuid.uuid4().hex))
    session.flush()
    log.info(
        "world imported: users=%d departments=%d customers=%d products=%d competitors=%d",
        summary.users, summary.departments, summary.customers, summary.products, summary.competitors,
    )
    return summary
