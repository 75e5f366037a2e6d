"""Settings read from the environment and an optional `.env` file."""

from datetime import time
from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

WECOM_REAL_API_BASE = "https://qyapi.weixin.qq.com/cgi-bin/"

# Development defaults: they work against the local emulator and are rejected
# outside development by `Settings.check_production_secrets`.
DEV_CORP_ID = "ww0000zhongshudev"
DEV_SECRET = "dev-secret-not-for-production"
DEV_TOKEN = "zhongshudevtoken"
DEV_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"

PLACEHOLDER_MARKERS = ("changeme", "change-me", "placeholder", "your-", "xxx", "not-for-production")
LOCAL_TIME_PATTERN = r"^([01]\d|2[0-3]):[0-5]\d$"  # HH:MM from 00:00 to 23:59


class SettingsError(RuntimeError):
    """Raised when a setting is missing or unusable; the message names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    zhongshu_env: Literal["development", "test", "production"] = "development"

    wecom_corp_id: str = DEV_CORP_ID
    wecom_agent_id: int = 1000002
    wecom_secret: str = DEV_SECRET
    wecom_token: str = DEV_TOKEN
    wecom_aes_key: str = DEV_AES_KEY
    wecom_api_base: str = WECOM_REAL_API_BASE

    database_url: str = "sqlite:///./zhongshu.db"
    redis_url: str | None = None
    redis_prefix: str = "zhongshu:"

    http_timeout_seconds: float = Field(default=5.0, gt=0)
    max_callback_body_bytes: int = Field(default=64 * 1024, gt=0)
    inbox_workers: int = Field(
        default=2, ge=0,
        description="inbox worker threads per server process; 0 makes it callback-only, for `zhongshu worker`",
    )
    dialogue_ttl_seconds: int = Field(default=600, gt=0)
    timezone: str = "Asia/Shanghai"
    pipeline_rules_path: str | None = Field(default=None, description="TOML pipeline rules; default models/pipeline_rules.toml")
    approval_rules_path: str | None = Field(default=None, description="TOML approval chains; default models/approval_rules.toml")
    quote_valid_days: int = Field(default=15, gt=0, description="days a new quote stays valid")
    rejection_reason_ttl_seconds: int = Field(
        default=1800, gt=0, description="seconds the bot waits for a reason after an approver taps 驳回"
    )
    scheduler_enabled: bool = Field(default=True, description="run the job scheduler in server processes")
    scheduler_lease_seconds: float = Field(default=30.0, gt=0, description="seconds a dead leader keeps the lock")
    weekly_report_day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = Field(
        default="mon", description="weekday on which the groups receive the weekly charts"
    )
    weekly_report_time: time = Field(default=time(9, 0), description="local time (TIMEZONE) of the weekly charts, HH:MM")
    reconciliation_time: time = Field(
        default=time(9, 0), description="local time of the monthly reconciliation to finance on working days, HH:MM"
    )
    report_targets_path: str | None = Field(
        default=None, description="TOML list of report groups; default models/report_targets.toml"
    )
    report_robot_keys: dict[str, str] = Field(
        default_factory=dict, description='group robot webhook keys by group name, as a JSON object {"name": "key"}'
    )
    daily_list_time: str = Field(default="08:30", pattern=LOCAL_TIME_PATTERN, description="local HH:MM of the reps' morning task lists")
    daily_list_latest: str = Field(
        default="12:00", pattern=LOCAL_TIME_PATTERN,
        description="local HH:MM after which a morning list delayed by downtime is skipped",
    )
    daily_summary_time: str = Field(default="18:00", pattern=LOCAL_TIME_PATTERN, description="local HH:MM of the evening progress and team tables")
    daily_summary_latest: str = Field(
        default="22:00", pattern=LOCAL_TIME_PATTERN,
        description="local HH:MM after which an evening summary delayed by downtime is skipped",
    )
    daily_target_touches: int = Field(default=3, ge=0, description="customers a rep should follow up each working day")
    daily_target_requirement_updates: int = Field(
        default=1, ge=0, description="requirement updates a rep should record each working day"
    )
    stage_rule_lookback_hours: int = Field(
        default=24, gt=0, description="hours of stage changes each notification-rule sweep reads"
    )
    log_level: str = "INFO"

    @property
    def is_development(self) -> bool:
        return self.zhongshu_env != "production"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def check_production_secrets(self) -> None:
        """Raise SettingsError naming the first WeCom secret that is missing or a placeholder."""
        if self.is_development:
            return
        secrets = {
            "WECOM_CORP_ID": (self.wecom_corp_id, DEV_CORP_ID),
            "WECOM_SECRET": (self.wecom_secret, DEV_SECRET),
            "WECOM_TOKEN": (self.wecom_token, DEV_TOKEN),
            "WECOM_AES_KEY": (self.wecom_aes_key, DEV_AES_KEY),
        }
        for variable, (value, dev_default) in secrets.items():
            lowered = value.strip().lower()
            if not lowered or value == dev_default or any(m in lowered for m in PLACEHOLDER_MARKERS):
                raise SettingsError(
                    f"{variable} is missing or a placeholder; set it to the value from the WeCom admin console"
                )
        if len(self.wecom_aes_key) != 43:
            raise SettingsError("WECOM_AES_KEY must be the 43-character EncodingAESKey from the WeCom admin console")


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings, read once."""
    return Settings()
