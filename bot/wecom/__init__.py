"""The bot's outbound side to WeCom: a typed client over wechatpy with a shared token cache."""

from bot.wecom.client import SendResult, WeComApiClient, WeComClient, WeComUnavailable
from bot.wecom.text import TEXT_MAX_BYTES, split_text
from bot.wecom.token_cache import AccessTokenCache

__all__ = [
    "TEXT_MAX_BYTES",
    "AccessTokenCache",
    "SendResult",
    "WeComApiClient",
    "WeComClient",
    "WeComUnavailable",
    "split_text",
]
