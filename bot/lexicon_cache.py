"""The lexicon of the company's customers, products, competitors and users, built from the database.

Building a lexicon loads a jieba dictionary, so it is cached. It is rebuilt only when the
fingerprint of those tables changes. The fingerprint is their row counts and newest ids, the
catalog version a world import writes, and a version that commands bump on renames.
"""

import logging
import threading
import time

from sqlalchemy import func, select

from bot.stores import KeyValueStore
from bot.understanding.lexicon import CustomerEntry, Lexicon, ProductEntry, UserEntry
from models.crm import Competitor, Customer, Product, UnitSpelling
from models.db import Database
from models.org import CompanySetting, User
from models.world import CATALOG_VERSION_KEY

log = logging.getLogger(__name__)

VERSION_KEY = "lexicon:version"
CHECK_INTERVAL_SECONDS = 1.0


def bump_lexicon_version(store: KeyValueStore) -> None:
    """Tell every process that customers or products changed in a way counts cannot show."""
    store.set(VERSION_KEY, str(time.time_ns()))


def load_lexicon(db: Database) -> Lexicon:
    with db.session() as session:
        customers = [
            CustomerEntry(id=c.id, name=c.name, aliases=tuple(c.aliases or ()))
            for c in session.scalars(select(Customer).order_by(Customer.id)).unique()
        ]
        products = [
            ProductEntry(id=p.id, name=p.name, aliases=tuple(p.aliases or ()), unit=p.unit)
            for p in session.scalars(select(Product).order_by(Product.id))
        ]
        users = [
            UserEntry(userid=u.userid, name=u.name, department=u.department.name if u.department else None)
            for u in session.scalars(select(User).order_by(User.id)).unique()
        ]
        competitors = list(session.scalars(select(Competitor.name).order_by(Competitor.id)))
        units: dict[str, list[str]] = {}
        for spelling in session.scalars(select(UnitSpelling)):
            units.setdefault(spelling.unit, []).append(spelling.spelling)
        company = session.get(CompanySetting, "company_name")
    return Lexicon(customers, products, competitors, users, units, company.value if company else None)


class LexiconCache:
    def __init__(self, db: Database, store: KeyValueStore, check_interval: float = CHECK_INTERVAL_SECONDS) -> None:
        self._db = db
        self._check_interval = check_interval
        self._store = store
        self._lock = threading.Lock()
        self._lexicon: Lexicon | None = None
        self._fingerprint: tuple | None = None
        self._checked_at = 0.0

    def _current_fingerprint(self) -> tuple:
        with self._db.session() as session:
            counts = tuple(
                tuple(session.execute(select(func.count(), func.max(model.id))).one())
                for model in (Customer, Product, Competitor, User)
            )
            catalog = session.get(CompanySetting, CATALOG_VERSION_KEY)
        return counts, catalog.value if catalog else None, self._store.get(VERSION_KEY)

    def get(self) -> Lexicon:
        """Return the lexicon, rebuilt first when the database changed since the last check."""
        with self._lock:
            now = time.monotonic()
            if self._lexicon is not None and now - self._checked_at < self._check_interval:
                return self._lexicon
            fingerprint = self._current_fingerprint()
            self._checked_at = now
            if self._lexicon is None or fingerprint != self._fingerprint:
                started = time.perf_counter()
                self._lexicon = load_lexicon(self._db)
                self._fingerprint = fingerprint
                log.info("lexicon built: ms=%.0f", (time.perf_counter() - started) * 1000)
            return self._lexicon

    def invalidate(self) -> None:
        with self._lock:
            self._checked_at = 0.0
            self._fingerprint = None
