"""Benchmark: outbox throughput, and the time from a rep's message to the approver's card.

Both run against PostgreSQL + Redis with the server and the WeCom emulator in processes of
their own. The card latency is measured from the moment the encrypted callback is posted to
the moment the emulator records the card in `message/send`, on the same machine clock.

    .venv/bin/python bench/approval_latency.py [--submissions 300] [--rate 10] [--rows 2000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402

DIRECTORS = 40  # each director gets a share of the cards, below WeCom's 30 a minute per member


def bench_world(directors: int, customers_per_rep: int) -> dict:
    """Return a company of `directors` regions, each with one director and one rep with customers."""
    users = [{"userid": "finance", "name": "财务负责人", "role": "finance_head", "department": "财务部"}]
    customers = []
    for index in range(directors):
        region = f"第{index:02d}大区"
        users.append({"userid": f"dir{index:02d}", "name": f"总监{index:02d}", "role": "regional_director", "department": region})
        users.append({"userid": f"rep{index:02d}", "name": f"销售{index:02d}", "role": "rep", "department": region,
                      "manager": f"dir{index:02d}"})
        for number in range(customers_per_rep):
            short = f"华东{index:02d}{number:02d}号"
            customers.append({"name": f"{short}建材有限公司", "aliases": [short], "region": region,
                              "owner": f"rep{index:02d}"})
    return {"company": "基准测试建材有限公司", "users": users, "customers": customers, "products": [], "competitors": []}


def import_bench_world(database_url: str, directors: int, customers_per_rep: int) -> None:
    from models.db import Database
    from models.world import import_world

    db = Database(database_url)
    with db.session() as session:
        import_world(session, bench_world(directors, customers_per_rep))
    db.dispose()


def measure_card_latency(server_url: str, emulator_url: str, submissions: int, rate: float) -> list[float]:
    """Post contract submissions at `rate` per second; return each card's latency in seconds."""
    device = harness.make_device(f"{server_url}/wecom/callback")
    sent_at: dict[str, float] = {}
    prepared = []
    for index in range(submissions):
        region, number = index % DIRECTORS, index // DIRECTORS
        amount = 10 + index  # 万元, all below the two-step threshold
        text = f"华东{region:02d}{number:02d}号合同 {amount}万 提交审批"
        callback = harness.encrypt_text_message(device, f"rep{region:02d}", text, 7_000_000 + index, int(time.time()))
        prepared.append((f"dir{region:02d}", amount, callback))

    client = httpx.Client(timeout=10.0)
    started = time.time()
    for index, (director, amount, callback) in enumerate(prepared):
        due = started + index / rate
        pause = due - time.time()
        if pause > 0:
            time.sleep(pause)
        sent_at[f"{director}:{amount}"] = time.time()
        response = client.post(f"{server_url}/wecom/callback", params=callback.params, content=callback.body)
        assert response.status_code == 200, response.text
    client.close()
    device.close()

    from bot.emulator.server import EmulatorInspector

    inspector = EmulatorInspector(emulator_url)
    deadline = time.time() + 120
    latencies: dict[str, float] = {}
    while len(latencies) < submissions and time.time() < deadline:
        for message in inspector.messages():
            if message.get("msgtype") != "template_card":
                continue
            fields = {row["keyname"]: row["value"] for row in message["content"].get("horizontal_content_list", [])}
            amount = fields.get("合同金额", "").removesuffix("万元")
            key = f"{message['touser']}:{amount}"
            if key in sent_at and key not in latencies:
                latencies[key] = message["timestamp"] - sent_at[key]
        time.sleep(0.5)
    inspector.close()
    if len(latencies) < submissions:
        raise TimeoutError(f"only {len(latencies)} of {submissions} cards arrived")
    return sorted(latencies.values())


def measure_outbox_throughput(database_url: str, emulator_url: str, redis_url: str, rows: int) -> float:
    """Queue `rows` texts to 200 members and return how many the sender delivers per second."""
    from bot.outbox import enqueue_reply
    from bot.sender import deliver_due
    from bot.settings import Settings
    from bot.stores import open_store
    from bot.wecom.client import WeComClient
    from handlers.outcome import Text
    from models.db import Database

    db = Database(database_url)
    with db.session() as session:
        for index in range(rows):
            enqueue_reply(session, f"member{index % 200:03d}", Text(f"通知 {index}"))
    settings = Settings(_env_file=None, database_url=database_url, wecom_api_base=f"{emulator_url}/cgi-bin/")
    client = WeComClient.from_settings(settings, open_store(redis_url, harness.new_redis_prefix()))

    started = time.perf_counter()
    sent = 0
    while True:
        attempted = deliver_due(db, client, limit=50)
        if not attempted:
            break
        sent += attempted
    elapsed = time.perf_counter() - started
    client.close()
    db.dispose()
    return sent / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=300, help="contract submissions to post")
    parser.add_argument("--rate", type=float, default=10.0, help="submissions per second")
    parser.add_argument("--rows", type=int, default=2000, help="outbox rows for the throughput run")
    args = parser.parse_args()
    harness.stop_on_sigterm()

    log_dir = Path(tempfile.mkdtemp(prefix="zhongshu-bench-approvals-"))
    database = harness.BenchDatabase.create("postgresql", workdir=log_dir)
    import_bench_world(database.url, DIRECTORS, -(-args.submissions // DIRECTORS))
    redis_prefix = harness.new_redis_prefix()
    emulator, emulator_url = harness.start_emulator(log_dir)
    server = None
    try:
        server, server_url = harness.start_server(
            database.url, emulator_url, log_dir, redis_url=harness.DEFAULT_REDIS, redis_prefix=redis_prefix,
        )
        latencies = measure_card_latency(server_url, emulator_url, args.submissions, args.rate)
        server.stop()
        server = None
        throughput = measure_outbox_throughput(database.url, emulator_url, harness.DEFAULT_REDIS, args.rows)
    finally:
        if server is not None:
            server.stop()
        emulator.stop()
        harness.delete_redis_keys(harness.DEFAULT_REDIS, redis_prefix)
        database.drop()

    print(f"machine: {harness.machine_summary()}")
    print(f"rep message to approver card, {args.submissions} submissions at {args.rate:g}/s:")
    for label, fraction in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
        print(f"  {label} {harness.percentile(latencies, fraction) * 1000:.0f} ms")
    print(f"  max {latencies[-1] * 1000:.0f} ms")
    print(f"outbox throughput: {throughput:.0f} messages/s over {args.rows} rows to 200 members (one sender)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
