"""Pipeline rules: the default file, overrides and rejected values."""

from datetime import datetime, timedelta, timezone

import pytest

from models.rules import DEFAULT_RULES_PATH, PoolRules, RulesError, load_rules, parse_rules


def test_default_file_matches_defaults():
    assert load_rules().pool == PoolRules()
    assert load_rules(str(DEFAULT_RULES_PATH)).pool == PoolRules()


def test_defaults_are_the_policy():
    rules = PoolRules()
    assert rules.release_after_days == 15
    assert rules.warn_days_before == 3
    assert rules.holding_limit == 50
    assert rules.claim_cooldown_days == 7
    assert rules.exempt_open_contracts
    assert rules.exempt_payments_due


def test_missing_keys_keep_defaults():
    rules = parse_rules("[pool]\nholding_limit = 3\nclosed_contract_statuses = ['void']\n").pool
    assert rules.holding_limit == 3
    assert rules.closed_contract_statuses == ("void",)
    assert rules.release_after_days == 15


def test_cutoffs():
    rules = PoolRules()
    now = datetime(2026, 12, 20, 1, 0, tzinfo=timezone.utc)
    assert rules.release_cutoff(now) == now - timedelta(days=15)
    assert rules.warning_cutoff(now) == now - timedelta(days=12)
    assert rules.cooldown_start(now) == now - timedelta(days=7)
    assert rules.release_time(now) == now + timedelta(days=15)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("[pool]\nholding_limt = 3\n", "unknown key pool.holding_limt"),
        ("[pool]\nholding_limit = -1\n", "pool.holding_limit must be a whole number"),
        ("[pool]\nholding_limit = '50'\n", "pool.holding_limit must be a whole number"),
        ("[pool]\nexempt_payments_due = 1\n", "pool.exempt_payments_due must be true or false"),
        ("[pool]\nclosed_contract_statuses = 'done'\n", "must be a list of strings"),
        ("[pool]\nrelease_after_days = 0\nwarn_days_before = 0\n", "release_after_days must be at least 1"),
        ("[pool]\nrelease_after_days = 3\n", "warn_days_before (3) must be less than"),
        ("[stage]\nx = 1\n", "unknown table 'stage'"),
        ("[pool\n", "invalid TOML"),
    ],
)
def test_invalid_rules_rejected(text, expected):
    with pytest.raises(RulesError) as error:
        parse_rules(text, "rules.toml")
    assert expected in str(error.value)
    assert str(error.value).startswith("rules.toml: ")


def test_missing_file_names_setting(tmp_path):
    with pytest.raises(RulesError) as error:
        load_rules(str(tmp_path / "absent.toml"))
    assert "PIPELINE_RULES_PATH" in str(error.value)
