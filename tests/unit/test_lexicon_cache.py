"""The note lexicon follows the database: new rows and re-imported aliases are picked up."""

from bot.lexicon_cache import LexiconCache
from bot.stores import MemoryStore
from models.world import import_world


def _aliases(lexicon, name):
    return next(c.aliases for c in lexicon.customers if c.name == name)


def test_reimported_alias_rebuilds_lexicon(db, world):
    cache = LexiconCache(db, MemoryStore(), check_interval=0)
    first = cache.get()
    name = world["customers"][0]["name"]
    assert "HD建材" not in _aliases(first, name)

    world["customers"][0]["aliases"] = [*world["customers"][0]["aliases"], "HD建材"]
    with db.session() as session:
        import_world(session, world)

    second = cache.get()
    assert second is not first
    assert "HD建材" in _aliases(second, name)


def test_unchanged_database_keeps_lexicon(db, world):
    cache = LexiconCache(db, MemoryStore(), check_interval=0)
    first = cache.get()
    assert cache.get() is first
