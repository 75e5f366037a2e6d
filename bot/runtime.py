"""Everything a server process shares: settings, database, store, crypto and wake-up signals."""

import threading
from dataclasses import dataclass, field

from wechatpy.enterprise.crypto import WeChatCrypto

from bot.lexicon_cache import LexiconCache
from bot.settings import Settings
from bot.stores import KeyValueStore, open_store
from models.db import Database


@dataclass
class Runtime:
    settings: Settings
    db: Database
    store: KeyValueStore
    crypto: WeChatCrypto
    lexicons: LexiconCache
    inbox_signal: threading.Event = field(default_factory=threading.Event)
    outbox_signal: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def from_settings(cls, settings: Settings) -> "Runtime":
        db = Database(settings.database_url)
        store = open_store(settings.redis_url, settings.redis_prefix)
        crypto = WeChatCrypto(settings.wecom_token, settings.wecom_aes_key, settings.wecom_corp_id)
        return cls(settings=settings, db=db, store=store, crypto=crypto, lexicons=LexiconCache(db, store))
