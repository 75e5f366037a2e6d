"""Pipeline rules that operators tune without a release, read from a TOML file.

The default file is `models/pipeline_rules.toml`; the `PIPELINE_RULES_PATH` setting names
another. Only the public pool policy lives here for now.
"""

import tomllib
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

DEFAULT_RULES_PATH = Path(__file__).resolve().with_name("pipeline_rules.toml")


class RulesError(ValueError):
    """Raised when the rules file is missing, unreadable or has an invalid value; names the key."""


@dataclass(frozen=True)
class PoolRules:
    """The public pool (公海) policy: when customers go back to the pool and who may claim them."""

    release_after_days: int = 15
    warn_days_before: int = 3
    exempt_open_contracts: bool = True
    closed_contract_statuses: tuple[str, ...] = ("completed", "cancelled", "terminated", "draft", "rejected")
    exempt_payments_due: bool = True
    holding_limit: int = 50
    claim_cooldown_days: int = 7

    def release_cutoff(self, now: datetime) -> datetime:
        """Return the time before which an owner's last follow-up releases the customer."""
        return now - timedelta(days=self.release_after_days)

    def warning_cutoff(self, now: datetime) -> datetime:
        """Return the time before which an owner's last follow-up earns a release warning."""
        return now - timedelta(days=self.release_after_days - self.warn_days_before)

    def release_time(self, reference: datetime) -> datetime:
        """Return when a customer last followed up (or claimed) at `reference` is released."""
        return reference + timedelta(days=self.release_after_days)

    def cooldown_start(self, now: datetime) -> datetime:
        """Return the start of the window in which a lost customer cannot be claimed back."""
        return now - timedelta(days=self.claim_cooldown_days)


@dataclass(frozen=True)
class PipelineRules:
    pool: PoolRules


def _pool_rules(table: dict, source: str) -> PoolRules:
    known = {field.name: field for field in fields(PoolRules)}
    values = {}
    for key, value in table.items():
        if key not in known:
            raise RulesError(f"{source}: unknown key pool.{key}; expected one of {', '.join(known)}")
        default = known[key].default
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise RulesError(f"{source}: pool.{key} must be true or false, got {value!r}")
        elif isinstance(default, int):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise RulesError(f"{source}: pool.{key} must be a whole number of 0 or more, got {value!r}")
        elif isinstance(default, tuple):
            if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                raise RulesError(f"{source}: pool.{key} must be a list of strings, got {value!r}")
            value = tuple(value)
        values[key] = value

    rules = PoolRules(**values)
    if rules.release_after_days < 1:
        raise RulesError(f"{source}: pool.release_after_days must be at least 1, got {rules.release_after_days}")
    if rules.warn_days_before >= rules.release_after_days:
        raise RulesError(
            f"{source}: pool.warn_days_before ({rules.warn_days_before}) must be less than "
            f"pool.release_after_days ({rules.release_after_days})"
        )
    return rules


def parse_rules(text: str, source: str = "<string>") -> PipelineRules:
    """Parse rules from TOML text; `source` names the file in error messages."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise RulesError(f"{source}: invalid TOML: {error}") from error
    unknown = set(document) - {"pool"}
    if unknown:
        raise RulesError(f"{source}: unknown table {sorted(unknown)[0]!r}; expected [pool]")
    pool = document.get("pool", {})
    if not isinstance(pool, dict):
        raise RulesError(f"{source}: pool must be a table ([pool])")
    return PipelineRules(pool=_pool_rules(pool, source))


@lru_cache(maxsize=8)
def load_rules(path: str | None = None) -> PipelineRules:
    """Read the rules file once per process; `path` None means the default file."""
    file = Path(path) if path else DEFAULT_RULES_PATH
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        raise RulesError(f"cannot read pipeline rules from {file}: {error}; check PIPELINE_RULES_PATH") from error
    return parse_rules(text, str(file))
