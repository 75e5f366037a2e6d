"""The company vocabulary that note extraction matches against.

A `Lexicon` contains the customers, products, competitors, colleagues and unit spellings of one
company, the lookup tables derived from them, and a private jieba tokenizer whose dictionary
contains their names. It is rebuilt whenever the customer or product tables change, so
construction reuses one shared copy of jieba's base dictionary and only adds the company's own
words.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jieba

# jieba reports dictionary loading on its own logger at DEBUG level.
jieba.setLogLevel(logging.WARNING)


@dataclass(frozen=True)
class CustomerEntry:
    id: int | str
    name: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProductEntry:
    id: int | str
    name: str
    aliases: tuple[str, ...]
    unit: str


@dataclass(frozen=True)
class UserEntry:
    userid: str
    name: str
    department: str | None = None


@dataclass(frozen=True)
class CustomerKey:
    """One spelling that refers to customers: a name, an alias or a derived abbreviation."""

    text: str
    customer_indexes: tuple[int, ...]
    derived: bool


# Legal-form endings stripped from a company name before abbreviations are derived.
LEGAL_SUFFIXES = (
    "股份有限公司", "集团有限公司", "有限责任公司", "集团股份有限公司", "有限公司", "集团公司",
    "分公司", "公司", "集团",
)

# Industry words that never identify a company on their own.
GENERIC_COMPANY_WORDS = frozenset(
    "建材 建设 建工 建筑 安装 工程 混凝土 商砼 置业 地产 房地产 开发 路桥 市政 水利 装饰 贸易 "
    "管桩 集团 公司 实业 商贸 科技 发展 投资 控股 材料 水泥 预制 构件 物资 新型".split()
)

# Category words that end a product alias and that reps often leave out.
PRODUCT_CATEGORY_WORDS = ("水泥", "混凝土", "商砼")

# A derived two-character abbreviation that is this common in jieba's dictionary is an
# ordinary word (长江, 新城) far more often than a company name, so it is not used.
MAX_ABBREVIATION_WORD_FREQ = 300

USER_WORD_FREQ = 2000

_base_lock = threading.Lock()
_base_tokenizer: jieba.Tokenizer | None = None
_working_freq: dict[str, int] | None = None


def _base_dictionary() -> jieba.Tokenizer:
    """Return a tokenizer with jieba's default dictionary loaded, shared by every lexicon."""
    global _base_tokenizer
    with _base_lock:
        if _base_tokenizer is None:
            tokenizer = jieba.Tokenizer()
            tokenizer.initialize()
            _base_tokenizer = tokenizer
        return _base_tokenizer


def _working_frequencies(base: jieba.Tokenizer) -> dict[str, int]:
    """Return the word table every lexicon's tokenizer shares: jieba's words plus the company's.

    Copying jieba's table (about 500,000 words, 15 MiB) for each rebuild made memory grow with
    every new customer. `base.FREQ` stays untouched for the abbreviation checks.
    """
    # NOTE: names of deleted customers stay in the shared table until the process restarts;
    # they only make those strings segment as one word.
    global _working_freq
    with _base_lock:
        if _working_freq is None:
            _working_freq = dict(base.FREQ)
        return _working_freq


def match_key(text: str) -> str:
    """Return the form in which catalog names are compared with note text.

    NFKC folds full-width letters and digits, case is folded, and white space, dots and middle
    dots are dropped so that "P.O 42.5", "PO42.5" and "p.o42.5" compare equal.
    """
    folded = unicodedata.normalize("NFKC", text).lower()
    return "".join(ch for ch in folded if not ch.isspace() and ch not in ".·・")


def strip_legal_suffix(name: str) -> str:
    for suffix in LEGAL_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def _abbreviations(name: str) -> set[str]:
    """Derive the short forms a rep may write for a company name.

    A name usually reads place + core + industry + legal form (宁波 港城 混凝土 有限公司). Reps
    write the core (港城), the core with its industry (港城混凝土), or a prefix of the name
    without the legal form (宁波港城).
    """
    stem = strip_legal_suffix(name)
    forms = {stem}
    core_starts = [2]
    if len(stem) > 3 and stem[2] in "市县区省":
        core_starts = [3]
    for start in core_starts:
        for end in range(start + 2, len(stem) + 1):
            forms.add(stem[start:end])
    for end in range(4, len(stem)):
        forms.add(stem[:end])
    return {form for form in forms if form not in GENERIC_COMPANY_WORDS and len(form) >= 2}


def _alternation(keys: Iterable[str]) -> re.Pattern[str] | None:
    ordered = sorted(set(keys), key=len, reverse=True)
    if not ordered:
        return None
    return re.compile("|".join(re.escape(key) for key in ordered))


class Lexicon:
    """Catalog vocabulary of one company with its lookup tables and tokenizer."""

    def __init__(
        self,
        customers: Sequence[CustomerEntry],
        products: Sequence[ProductEntry],
        competitors: list[str],
        users: Sequence[UserEntry],
        units: Mapping[str, list[str]],
        company_name: str | None = None,
    ) -> None:
        self.customers = tuple(customers)
        self.products = tuple(products)
        self.competitors = tuple(competitors)
        self.users = tuple(users)
        self.company_name = company_name

        base = _base_dictionary()
        self.tokenizer = jieba.Tokenizer()
        self.tokenizer.FREQ = _working_frequencies(base)
        self.tokenizer.total = base.total
        self.tokenizer.initialized = True

        self._build_units(units)
        self._build_customer_keys(base.FREQ)
        self._build_product_keys()
        self._build_people()

        own_words = [c.name for c in self.customers]
        own_words += [alias for c in self.customers for alias in c.aliases]
        own_words += [key.text for key in self.customer_keys.values() if key.derived]
        own_words += [p.name for p in self.products] + [a for p in self.products for a in p.aliases]
        own_words += list(self.competitors) + [u.name for u in self.users]
        if company_name:
            own_words.append(company_name)
        for word in own_words:
            # jieba dictionary words cannot contain spaces; names with spaces are matched on
            # `match_key` text instead.
            if word and not any(ch.isspace() for ch in word):
                self.tokenizer.add_word(word, USER_WORD_FREQ)

    @classmethod
    def from_world(cls, world: dict[str, Any]) -> Lexicon:
        """Build a lexicon from a sample-company document; ids are the list indexes."""
        customers = [
            CustomerEntry(id=index, name=row["name"], aliases=tuple(row.get("aliases") or ()))
            for index, row in enumerate(world.get("customers") or [])
        ]
        products = [
            ProductEntry(
                id=index, name=row["name"], aliases=tuple(row.get("aliases") or ()), unit=row["unit"]
            )
            for index, row in enumerate(world.get("products") or [])
        ]
        users = [
            UserEntry(userid=row["userid"], name=row["name"], department=row.get("department"))
            for row in world.get("users") or []
        ]
        return cls(
            customers=customers,
            products=products,
            competitors=list(world.get("competitors") or []),
            users=users,
            units=world.get("units") or {},
            company_name=world.get("company"),
        )

    # -- construction helpers ---------------------------------------------------------------

    def _build_units(self, units: Mapping[str, list[str]]) -> None:
        self.unit_by_spelling: dict[str, str] = {}
        for canonical, spellings in units.items():
            self.unit_by_spelling[canonical] = canonical
            for spelling in spellings:
                self.unit_by_spelling[spelling] = canonical
        spellings = sorted(self.unit_by_spelling, key=len, reverse=True)
        self.unit_pattern = "|".join(re.escape(s) for s in spellings) if spellings else "(?!)"

    def _build_customer_keys(self, base_freq: Mapping[str, int]) -> None:
        exact: dict[str, set[int]] = {}
        derived: dict[str, set[int]] = {}
        for index, customer in enumerate(self.customers):
            for spelling in (customer.name, *customer.aliases):
                exact.setdefault(match_key(spelling), set()).add(index)
            for form in _abbreviations(customer.name):
                key = match_key(form)
                if len(key) == 2 and base_freq.get(form, 0) > MAX_ABBREVIATION_WORD_FREQ:
                    continue
                derived.setdefault(key, set()).add(index)

        excluded = {match_key(name) for name in self.competitors}
        for product in self.products:
            excluded.update(match_key(s) for s in (product.name, *product.aliases))
        self.own_company_keys: set[str] = set()
        if self.company_name:
            self.own_company_keys = {match_key(self.company_name)}
            self.own_company_keys |= {match_key(f) for f in _abbreviations(self.company_name)}
            excluded |= self.own_company_keys

        self.customer_keys: dict[str, CustomerKey] = {}
        for key, indexes in derived.items():
            if key not in excluded:
                self.customer_keys[key] = CustomerKey(key, tuple(sorted(indexes)), derived=True)
        for key, indexes in exact.items():
            self.customer_keys[key] = CustomerKey(key, tuple(sorted(indexes)), derived=False)
        self.customer_regex = _alternation(self.customer_keys)
        self.own_company_regex = _alternation(self.own_company_keys)
        self._build_fuzzy_index()

    def _build_fuzzy_index(self) -> None:
        """Index customer spellings of three or more characters by character pairs.

        One wrong character leaves at least one adjacent pair or one pair two apart intact. One
        missing character in a spelling of four or more leaves an adjacent pair intact. So every
        near miss shares a pair with the spelling it misses.
        """
        self.fuzzy_keys: list[CustomerKey] = [
            key for key in self.customer_keys.values()
            if len(key.text) >= 4 or (len(key.text) == 3 and not key.derived)
        ]
        self.fuzzy_grams: dict[str, list[tuple[int, int]]] = {}
        for key_index, key in enumerate(self.fuzzy_keys):
            text = key.text
            for offset in range(len(text) - 1):
                self.fuzzy_grams.setdefault(text[offset : offset + 2], []).append((key_index, offset))
            for offset in range(len(text) - 2):
                gram = text[offset] + "\0" + text[offset + 2]
                self.fuzzy_grams.setdefault(gram, []).append((key_index, offset))

    def _build_product_keys(self) -> None:
        self.product_index_by_key: dict[str, int] = {}
        for index, product in enumerate(self.products):
            for spelling in (product.name, *product.aliases):
                self.product_index_by_key.setdefault(match_key(spelling), index)
        # Reps drop a trailing category word (四二五水泥 → 四二五). The short form is added only
        # when it is three or more characters and not plain digits, which the number reader owns.
        for index, product in enumerate(self.products):
            for spelling in (product.name, *product.aliases):
                for category in PRODUCT_CATEGORY_WORDS:
                    stem = match_key(spelling.removesuffix(category))
                    if stem != match_key(spelling) and len(stem) >= 3 and not re.fullmatch(r"[\d.]+", stem):
                        self.product_index_by_key.setdefault(stem, index)
        self.product_regex = _alternation(self.product_index_by_key)
        self.competitor_by_key = {match_key(name): name for name in self.competitors}
        self.competitor_regex = _alternation(self.competitor_by_key)

    def _build_people(self) -> None:
        self.user_names = frozenset(user.name for user in self.users)
        self.user_departments: dict[str, set[str]] = {}
        self.departments: set[str] = set()
        for user in self.users:
            if user.name:
                surname = user.name[0]
                self.user_departments.setdefault(surname, set())
                if user.department:
                    self.user_departments[surname].add(user.department)
            if user.department:
                self.departments.add(user.department)

    # -- queries ------------------------------------------------------------------------------

    def canonical_unit(self, spelling: str) -> str | None:
        return self.unit_by_spelling.get(spelling)

    def tokenize(self, text: str) -> list[str]:
        """Segment `text` with this lexicon's dictionary (no HMM, so unknown words split)."""
        return self.tokenizer.lcut(text, HMM=False)
