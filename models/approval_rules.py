"""Approval chains that operators tune without a release, read from a TOML file.

The default file is `models/approval_rules.toml`; the `APPROVAL_RULES_PATH` setting names
another. The rules name approver roles; `handlers.approvals` turns them into people.
"""

import tomllib
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from models.org import Role

DEFAULT_APPROVAL_RULES_PATH = Path(__file__).resolve().with_name("approval_rules.toml")

APPROVER_ROLES = (Role.REGIONAL_DIRECTOR, Role.FINANCE_HEAD, Role.SALES_DIRECTOR)


class ApprovalRulesError(ValueError):
    """Raised when the approval rules file is missing, unreadable or invalid; names the key."""


@dataclass(frozen=True)
class ContractTier:
    min_amount: Decimal
    approvers: tuple[Role, ...]


@dataclass(frozen=True)
class ApprovalRules:
    contract_tiers: tuple[ContractTier, ...] = (
        ContractTier(Decimal(500000), (Role.REGIONAL_DIRECTOR, Role.FINANCE_HEAD)),
        ContractTier(Decimal(0), (Role.REGIONAL_DIRECTOR,)),
    )
    free_discount_percent: Decimal = Decimal(5)
    pricing_approvers: tuple[Role, ...] = (Role.REGIONAL_DIRECTOR,)
    remind_after_hours: int = 24
    escalate_after_hours: int = 48
    escalate_to: Role = Role.SALES_DIRECTOR

    def contract_chain(self, amount: Decimal) -> tuple[Role, ...]:
        """Return the approver roles for a contract of `amount` CNY, in order."""
        for tier in self.contract_tiers:
            if amount >= tier.min_amount:
                return tier.approvers
        return self.contract_tiers[-1].approvers

    def price_needs_approval(self, price: Decimal, list_price: Decimal | None, floor_price: Decimal | None) -> bool:
        """Return whether a unit price is below the floor price or beyond the free discount."""
        if floor_price is not None and price < floor_price:
            return True
        return list_price is not None and discount_percent(price, list_price) > self.free_discount_percent


def discount_percent(price: Decimal, list_price: Decimal) -> Decimal:
    """Return how many percent `price` is below `list_price`, rounded to 0.1 (negative when above)."""
    if list_price <= 0:
        return Decimal(0)
    return ((list_price - price) * 100 / list_price).quantize(Decimal("0.1"))


def _roles(value, key: str, source: str) -> tuple[Role, ...]:
    allowed = ", ".join(APPROVER_ROLES)
    if not isinstance(value, list) or not value:
        raise ApprovalRulesError(f"{source}: {key} must be a non-empty list of roles ({allowed}), got {value!r}")
    roles = []
    for item in value:
        if item not in APPROVER_ROLES:
            raise ApprovalRulesError(f"{source}: {key} has unknown role {item!r}; expected one of {allowed}")
        roles.append(Role(item))
    return tuple(roles)


def _number(table: dict, key: str, default, source: str, *, whole: bool = False):
    if key not in table:
        return default
    value = table[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0 or (whole and not isinstance(value, int)):
        kind = "a whole number" if whole else "a number"
        raise ApprovalRulesError(f"{source}: {key} must be {kind} of 0 or more, got {value!r}")
    return value


def _check_keys(table, name: str, known: set[str], source: str) -> dict:
    if not isinstance(table, dict):
        raise ApprovalRulesError(f"{source}: {name} must be a table ([{name}])")
    unknown = set(table) - known
    if unknown:
        raise ApprovalRulesError(f"{source}: unknown key {name}.{min(unknown)}; expected one of {', '.join(sorted(known))}")
    return table


def _contract_tiers(contract: dict, source: str) -> tuple[ContractTier, ...]:
    raw = contract.get("tiers")
    if raw is None:
        return ApprovalRules.contract_tiers
    if not isinstance(raw, list) or not raw:
        raise ApprovalRulesError(f"{source}: contract.tiers must be a non-empty list of tables")
    tiers = []
    for index, item in enumerate(raw):
        name = f"contract.tiers[{index}]"
        item = _check_keys(item, name, {"min_amount", "approvers"}, source)
        if "min_amount" not in item:
            raise ApprovalRulesError(f"{source}: {name}.min_amount is missing")
        amount = _number(item, "min_amount", 0, source)
        tiers.append(ContractTier(Decimal(str(amount)), _roles(item.get("approvers"), f"{name}.approvers", source)))
    tiers.sort(key=lambda tier: tier.min_amount, reverse=True)
    if tiers[-1].min_amount != 0:
        raise ApprovalRulesError(f"{source}: contract.tiers needs a tier with min_amount = 0 so that every contract has a chain")
    return tuple(tiers)


def parse_approval_rules(text: str, source: str = "<string>") -> ApprovalRules:
    """Parse approval rules from TOML text; `source` names the file in error messages."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ApprovalRulesError(f"{source}: invalid TOML: {error}") from error
    _check_keys(document, "document", {"contract", "pricing", "chase"}, source)
    contract = _check_keys(document.get("contract", {}), "contract", {"tiers"}, source)
    pricing = _check_keys(document.get("pricing", {}), "pricing", {"free_discount_percent", "approvers"}, source)
    chase = _check_keys(
        document.get("chase", {}), "chase", {"remind_after_hours", "escalate_after_hours", "escalate_to"}, source
    )

    defaults = ApprovalRules()
    percent = _number(pricing, "free_discount_percent", defaults.free_discount_percent, source)
    if percent >= 100:
        raise ApprovalRulesError(f"{source}: pricing.free_discount_percent must be below 100, got {percent!r}")
    approvers = pricing.get("approvers")
    remind = _number(chase, "remind_after_hours", defaults.remind_after_hours, source, whole=True)
    escalate = _number(chase, "escalate_after_hours", defaults.escalate_after_hours, source, whole=True)
    if remind < 1 or escalate <= remind:
        raise ApprovalRulesError(
            f"{source}: chase.remind_after_hours ({remind}) must be at least 1 and below "
            f"chase.escalate_after_hours ({escalate})"
        )
    escalate_to = chase.get("escalate_to", defaults.escalate_to)
    return ApprovalRules(
        contract_tiers=_contract_tiers(contract, source),
        free_discount_percent=Decimal(str(percent)),
        pricing_approvers=defaults.pricing_approvers if approvers is None else _roles(approvers, "pricing.approvers", source),
        remind_after_hours=remind,
        escalate_after_hours=escalate,
        escalate_to=_roles([escalate_to], "chase.escalate_to", source)[0],
    )


@lru_cache(maxsize=8)
def load_approval_rules(path: str | None = None) -> ApprovalRules:
    """Read the approval rules file once per process; `path` None means the default file."""
    file = Path(path) if path else DEFAULT_APPROVAL_RULES_PATH
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        raise ApprovalRulesError(f"cannot read approval rules from {file}: {error}; check APPROVAL_RULES_PATH") from error
    return parse_approval_rules(text, str(file))
