"""Settings: production refuses missing or placeholder WeCom secrets and names the variable."""

import pytest

from bot.settings import DEV_SECRET, Settings, SettingsError

REAL = dict(
    wecom_corp_id="ww1234567890abcdef",
    wecom_secret="s3cr3t-from-console-0123456789",
    wecom_token="tokenfromconsole",
    wecom_aes_key="k" * 43,
)


def test_development_accepts_defaults():
    Settings(_env_file=None, zhongshu_env="development").check_production_secrets()


def test_production_accepts_real_secrets():
    Settings(_env_file=None, zhongshu_env="production", **REAL).check_production_secrets()


@pytest.mark.parametrize(
    ("field", "value", "variable"),
    [
        ("wecom_corp_id", "", "WECOM_CORP_ID"),
        ("wecom_secret", "changeme", "WECOM_SECRET"),
        ("wecom_token", "your-token", "WECOM_TOKEN"),
        ("wecom_aes_key", "placeholder", "WECOM_AES_KEY"),
    ],
)
def test_production_rejects_placeholder(field, value, variable):
    settings = Settings(_env_file=None, zhongshu_env="production", **(REAL | {field: value}))
    with pytest.raises(SettingsError, match=variable):
        settings.check_production_secrets()


def test_production_rejects_development_default():
    settings = Settings(_env_file=None, zhongshu_env="production", **(REAL | {"wecom_secret": DEV_SECRET}))
    with pytest.raises(SettingsError, match="WECOM_SECRET"):
        settings.check_production_secrets()


def test_production_rejects_short_aes_key():
    settings = Settings(_env_file=None, zhongshu_env="production", **(REAL | {"wecom_aes_key": "k" * 42}))
    with pytest.raises(SettingsError, match="43-character"):
        settings.check_production_secrets()
