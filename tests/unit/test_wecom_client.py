"""WeComClient against a live emulator: token caching and refresh, errcodes, transport failures."""

import socket
import threading
import uuid
from collections.abc import Callable, Iterator

import pytest
import redis

from bot.emulator import EmulatorConfig, EmulatorInspector, ManualClock, RunningServer, start_emulator_in_thread
from bot.settings import DEV_CORP_ID, DEV_SECRET, Settings
from bot.stores import MemoryStore, RedisStore
from bot.wecom import AccessTokenCache, SendResult, WeComClient, WeComUnavailable, split_text

REDIS_URL = "redis://127.0.0.1:6379/0"
AGENT_ID = EmulatorConfig().agent_id


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def emulator(clock: ManualClock) -> Iterator[RunningServer]:
    server = start_emulator_in_thread(EmulatorConfig(), clock=clock)
    yield server
    server.stop()


@pytest.fixture
def inspector(emulator: RunningServer) -> Iterator[EmulatorInspector]:
    inspector = EmulatorInspector(emulator.url)
    yield inspector
    inspector.close()


@pytest.fixture
def redis_prefix() -> str:
    return f"test-wecom-client-{uuid.uuid4().hex}:"


@pytest.fixture
def redis_client(redis_prefix: str) -> Iterator[redis.Redis]:
    """A direct Redis connection for checking and deleting the test's keys."""
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    yield client
    for key in client.scan_iter(f"{redis_prefix}*"):
        client.delete(key)
    client.close()


@pytest.fixture
def redis_store(redis_prefix: str, redis_client: redis.Redis) -> RedisStore:
    return RedisStore(REDIS_URL, prefix=redis_prefix)


@pytest.fixture
def make_client() -> Iterator[Callable[..., WeComClient]]:
    """Return a factory of clients aimed at an emulator; every client is closed after the test."""
    clients: list[WeComClient] = []

    def make(
        emulator: RunningServer | None,
        store=None,
        *,
        secret: str = DEV_SECRET,
        timeout: float = 5.0,
        api_base: str | None = None,
    ) -> WeComClient:
        if api_base is None:
            assert emulator is not None
            api_base = emulator.url + "/cgi-bin/"
        client = WeComClient(
            corp_id=DEV_CORP_ID,
            secret=secret,
            agent_id=AGENT_ID,
            api_base=api_base,
            store=store if store is not None else MemoryStore(),
            timeout_seconds=timeout,
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


# Sending and results


def test_send_text_delivers_and_returns_result(emulator, inspector, make_client):
    result = make_client(emulator).send_text("zhangsan", "客户华东建材已签约")

    delivered = inspector.messages(touser="zhangsan")
    assert result.ok
    assert result.errcode == 0
    assert result.errmsg == "ok"
    assert result.msgid == delivered[0]["msgid"]
    assert result.invalid_users == ()
    assert delivered[0]["content"] == "客户华东建材已签约"


def test_from_settings_uses_configured_api_base(emulator, inspector):
    settings = Settings(wecom_api_base=emulator.url + "/cgi-bin")

    with WeComClient.from_settings(settings, MemoryStore()) as client:
        assert client.send_text("zhangsan", "你好").ok
    assert len(inspector.messages()) == 1


def test_errcodes_come_back_without_retry(emulator, inspector, make_client):
    client = make_client(emulator)
    client.send_text("zhangsan", "预热")
    inspector.reset()

    for errcode in (-1, 45009, 45033):
        inspector.inject_fault("message/send", errcode=errcode)
        result = client.send_text("zhangsan", "你好")
        assert result == SendResult(ok=False, errcode=errcode, errmsg=result.errmsg, msgid=None)

    assert inspector.stats()["message_send_calls"] == 3
    assert inspector.messages() == []


def test_invalid_users_are_returned(clock, make_client):
    config = EmulatorConfig(known_users=frozenset({"zhangsan"}))
    with start_emulator_in_thread(config, clock=clock) as server:
        client = make_client(server)
        partial = client.send_text("zhangsan|ghost", "你好")
        all_invalid = client.send_text("ghost", "你好")

    assert partial.ok
    assert partial.invalid_users == ("ghost",)
    assert not all_invalid.ok
    assert all_invalid.errcode == 81013
    assert all_invalid.invalid_users == ("ghost",)


def test_wrong_secret_returns_40001(emulator, inspector, make_client):
    result = make_client(emulator, secret="wrong-secret").send_text("zhangsan", "你好")

    assert not result.ok
    assert result.errcode == 40001
    assert inspector.stats()["message_send_calls"] == 0


# Access token cache


def test_token_fetched_once_and_cached(emulator, inspector, make_client):
    client = make_client(emulator)

    for _ in range(3):
        assert client.send_text("zhangsan", "你好").ok

    assert inspector.stats()["gettoken_calls"] == 1


def test_token_shared_through_redis(emulator, inspector, redis_store, make_client):
    first = make_client(emulator, redis_store)
    second = make_client(emulator, redis_store)

    assert first.send_text("zhangsan", "一").ok
    assert second.send_text("zhangsan", "二").ok

    assert inspector.stats()["gettoken_calls"] == 1


def test_concurrent_first_use_fetches_once(emulator, inspector, redis_store, make_client):
    # The delayed gettoken keeps the first caller inside the refresh lock while the others arrive.
    inspector.inject_fault("gettoken", delay_seconds=0.3)
    clients = [make_client(emulator, redis_store) for _ in range(4)]
    results: list[SendResult] = []

    threads = [threading.Thread(target=lambda c=c: results.append(c.send_text("zhangsan", "并发"))) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert len(results) == 4
    assert all(result.ok for result in results)
    assert inspector.stats()["gettoken_calls"] == 1


def test_token_cached_shorter_than_expires_in(emulator, redis_store, redis_client, redis_prefix, make_client):
    client = make_client(emulator, redis_store)
    client.send_text("zhangsan", "你好")

    key = f"wecom:access_token:{DEV_CORP_ID}:{AGENT_ID}"
    ttl_ms = redis_client.pttl(redis_prefix + key)

    assert 0 < ttl_ms <= (7200 - 300) * 1000


def test_invalid_token_refreshes_once_and_retries(emulator, inspector, make_client):
    client = make_client(emulator)
    client.send_text("zhangsan", "预热")
    inspector.reset()
    inspector.inject_fault("message/send", errcode=40014)

    result = client.send_text("zhangsan", "重试后送达")

    assert result.ok
    assert inspector.stats() == {"gettoken_calls": 1, "message_send_calls": 2}
    assert [m["content"] for m in inspector.messages()] == ["重试后送达"]


def test_invalid_token_twice_is_not_refreshed_twice(emulator, inspector, make_client):
    client = make_client(emulator)
    client.send_text("zhangsan", "预热")
    inspector.reset()
    inspector.inject_fault("message/send", errcode=40014, count=2)

    result = client.send_text("zhangsan", "你好")

    assert not result.ok
    assert result.errcode == 40014
    assert inspector.stats() == {"gettoken_calls": 1, "message_send_calls": 2}
    assert inspector.messages() == []


def test_expired_token_refreshes_once(emulator, inspector, clock, make_client):
    client = make_client(emulator)
    client.send_text("zhangsan", "预热")
    inspector.reset()

    clock.advance(7200)
    result = client.send_text("zhangsan", "过期后送达")

    assert result.ok
    assert inspector.stats() == {"gettoken_calls": 1, "message_send_calls": 2}
    assert [m["content"] for m in inspector.messages()] == ["过期后送达"]


def test_refresh_failure_returns_gettoken_errcode(emulator, inspector, make_client):
    client = make_client(emulator)
    client.send_text("zhangsan", "预热")
    inspector.inject_fault("message/send", errcode=42001)
    inspector.inject_fault("gettoken", errcode=-1)

    result = client.send_text("zhangsan", "你好")

    assert result.errcode == -1


def test_refresh_waits_for_lock_holder(redis_store):
    cache = AccessTokenCache(redis_store, "corp", 1, poll_interval_seconds=0.01)
    lock_key = "wecom:access_token:corp:1:refresh_lock"
    assert redis_store.set_if_absent(lock_key, "other-process", 5)

    def finish_other_refresh() -> None:
        redis_store.set("wecom:access_token:corp:1", "token-from-other-process", 60)
        redis_store.delete(lock_key)

    timer = threading.Timer(0.1, finish_other_refresh)
    timer.start()
    fetch_calls: list[str] = []

    def fetch_own_token() -> tuple[str, int]:
        fetch_calls.append("own-token")
        return "own-token", 7200

    token = cache.refresh(fetch_own_token, stale=None)
    timer.join()

    assert token == "token-from-other-process"
    assert fetch_calls == []


# Transport failures


def test_timeout_raises_wecom_unavailable(emulator, inspector, make_client):
    client = make_client(emulator, timeout=0.2)
    client.send_text("zhangsan", "预热")
    inspector.inject_fault("message/send", delay_seconds=1.0)

    with pytest.raises(WeComUnavailable, match="message/send request failed") as caught:
        client.send_text("zhangsan", "你好")

    assert "timed out" in caught.value.reason.lower()


def test_gettoken_timeout_raises_wecom_unavailable(emulator, inspector, make_client):
    inspector.inject_fault("gettoken", delay_seconds=1.0)

    with pytest.raises(WeComUnavailable, match="gettoken request failed"):
        make_client(emulator, timeout=0.2).send_text("zhangsan", "你好")


def test_connection_refused_raises_wecom_unavailable(make_client):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    client = make_client(None, api_base=f"http://127.0.0.1:{closed_port}/cgi-bin/", timeout=1.0)

    with pytest.raises(WeComUnavailable, match="gettoken request failed"):
        client.send_text("zhangsan", "你好")


def test_http_error_status_raises_wecom_unavailable(emulator, make_client):
    client = make_client(emulator, api_base=emulator.url + "/no-such-base/", timeout=1.0)

    with pytest.raises(WeComUnavailable, match="404"):
        client.send_text("zhangsan", "你好")


# Long text


def test_long_text_is_split_into_messages(emulator, inspector, make_client):
    lines = [f"第{number}行：客户拜访记录，讨论了防水涂料的报价与交期。" for number in range(120)]
    content = "\n".join(lines)
    assert len(content.encode("utf-8")) > 2 * 2048

    result = make_client(emulator).send_text("zhangsan", content)

    delivered = [m["content"] for m in inspector.messages()]
    assert result.ok
    assert result.msgid == inspector.messages()[-1]["msgid"]
    assert len(delivered) == len(split_text(content))
    assert len(delivered) >= 3
    assert all(len(part.encode("utf-8")) <= 2048 for part in delivered)
    assert "\n".join(delivered) == content


def test_split_text_keeps_short_text_whole():
    assert split_text("你好\n世界") == ["你好\n世界"]
    assert split_text("") == [""]


def test_split_text_cuts_on_line_boundaries():
    line = "x" * 1000
    parts = split_text("\n".join([line, line, line]), max_bytes=2048)

    assert parts == [line + "\n" + line, line]


def test_split_text_cuts_long_line_between_characters():
    content = "字" * 1000  # 3,000 bytes on one line

    parts = split_text(content, max_bytes=2048)

    assert "".join(parts) == content
    assert [len(part.encode("utf-8")) for part in parts] == [2046, 954]


def test_split_text_keeps_empty_lines_inside_a_part():
    content = "a\n\nb" + "\n" + "c" * 2048

    assert split_text(content) == ["a\n\nb", "c" * 2048]
