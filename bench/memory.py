"""Resident memory of the server process after it has recorded many visit notes.

The server runs as `zhongshu serve` in a child process. The notes are the dev notes in turn
with their numbers shifted each round, and every `--new-customer-every`-th note is about a
company the bot does not know, and a reply of 1 confirms it as a new customer. Customers,
contacts and opportunities therefore accumulate. Notes go in batches, and each batch waits for
the inbox to drain, so the backlog stays small and the run measures memory, not queueing.

Example: .venv/bin/python bench/memory.py --notes 10000
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import harness
import httpx
from sqlalchemy.exc import SQLAlchemyError

TARGET_RSS_MIB = 300.0

# Each made-up company gets its own pair of characters, one from each list, so that no new
# name contains another new customer's derived short name.
FIRST_CHARACTERS = "瑞泰鼎永德兴源振博益百嘉富利盛庆凯旭晨辉腾翔隆昌顺福瀚宸铭峰锦卓"
SECOND_CHARACTERS = "丰和安通宇文达川华美元邦诚信康乐聚润泽源林森灿祥瑞景光正宏茂晖海"
PLACES = ["常州", "南通", "扬州", "镇江", "泰州", "湖州", "嘉兴", "绍兴", "台州", "盐城"]


def new_company_name(index: int) -> str:
    """Return a made-up company name; its character pair repeats only after 1,024 indexes."""
    size = len(FIRST_CHARACTERS)
    first = FIRST_CHARACTERS[index % size]
    second = SECOND_CHARACTERS[(index // size) % size]
    place = PLACES[index % len(PLACES)]
    return f"{place}{first}{second}建材有限公司"


class NoteFeed:
    """Builds the encrypted callbacks of successive notes and of the replies that confirm new customers."""

    def __init__(self, device, new_customer_every: int) -> None:
        self.device = device
        self.notes = harness.load_notes()
        self.new_customer_every = new_customer_every
        self.next_note = 0
        self.next_msg_id = 1
        self.new_customers = 0

    def _callback(self, user: str, text: str, create_time: int) -> harness.EncryptedCallback:
        callback = harness.encrypt_text_message(self.device, user, text, self.next_msg_id, create_time)
        self.next_msg_id += 1
        return callback

    def batch(self, count: int) -> list[harness.EncryptedCallback]:
        """Return callbacks for the next `count` notes, each new-customer note followed by the reply 1."""
        callbacks = []
        for _ in range(count):
            index = self.next_note
            self.next_note += 1
            note = self.notes[index % len(self.notes)]
            create_time = int(datetime.fromisoformat(note["now"]).timestamp())
            if self.new_customer_every and index % self.new_customer_every == 0:
                name = new_company_name(self.new_customers)
                self.new_customers += 1
                text = f"今天上午拜访了{name}的刘经理,对方要采购P.O42.5水泥约{100 + index % 900}吨,下周三前报价"
                callbacks.append(self._callback(note["author"], text, create_time))
                callbacks.append(self._callback(note["author"], "1", create_time))
            else:
                text = harness.vary_note(note["text"], index // len(self.notes))
                callbacks.append(self._callback(note["author"], text, create_time))
        return callbacks


def post_all(url: str, callbacks: list[harness.EncryptedCallback], threads: int) -> int:
    """Post callbacks from `threads` connections; return how many responses were not 200 and empty.

    Only one thread keeps the callbacks in order.
    """
    headers = {"Content-Type": "text/xml; charset=utf-8"}
    lanes = [callbacks[offset::threads] for offset in range(threads)]

    def run(lane: list[harness.EncryptedCallback]) -> int:
        bad = 0
        with httpx.Client(timeout=30.0) as client:
            for callback in lane:
                response = client.post(url, params=callback.params, content=callback.body, headers=headers)
                bad += response.status_code != 200 or response.content != b""
        return bad

    if threads == 1:
        return run(callbacks)
    with ThreadPoolExecutor(threads) as pool:
        return sum(pool.map(run, lanes))


def tree_rss_mib(pid: int) -> tuple[float, int]:
    """Return the summed VmRSS of the process and its descendants in MiB, and how many processes."""
    pids = harness.process_tree(pid)
    return sum(harness.rss_kib(p) for p in pids) / 1024, len(pids)


def count_rows(database: harness.BenchDatabase) -> str:
    tables = ["inbound_messages", "customers", "contacts", "opportunities", "activities", "outbound_messages"]
    counts = []
    for table in tables:
        try:
            counts.append(f"{table}={database.scalar(f'SELECT count(*) FROM {table}')}")
        except SQLAlchemyError as error:  # a missing or renamed table should not hide the RSS result
            counts.append(f"{table}=? ({type(error).__name__})")
    return " ".join(counts)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notes", type=int, default=10000, help="visit notes to send (default 10000)")
    parser.add_argument("--batch", type=int, default=200, help="notes sent before waiting for the inbox to drain")
    parser.add_argument("--new-customer-every", type=int, default=10, help="every Nth note names a new company; 0 for none")
    harness.add_server_arguments(parser)
    parser.add_argument("--processes", type=int, default=1, help="server processes, `zhongshu serve --workers` (default 1)")
    parser.add_argument("--inbox-workers", type=int, default=2, help="INBOX_WORKERS of the server (default 2)")
    parser.add_argument("--report-every", type=int, default=1000, help="print RSS after every N notes")
    parser.add_argument("--drain-timeout", type=float, default=600.0, help="seconds to wait for one batch to drain")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    harness.stop_on_sigterm()
    log_dir = harness.prepare_log_dir(args.log_dir)
    print(f"machine: {harness.machine_summary()}")
    print(f"database: {args.database}, redis: {args.redis_url or 'none'}, processes: {args.processes}, logs: {log_dir}")

    redis_url = args.redis_url or None
    running = harness.running_bot(
        args.database, args.postgres_url, redis_url, log_dir,
        processes=args.processes, inbox_workers=args.inbox_workers,
    )
    with running as bot:
        database, server, callback_url = bot.database, bot.server, bot.callback_url
        feed = NoteFeed(harness.make_device(callback_url), args.new_customer_every)
        time.sleep(1.0)  # let the workers finish starting before the first reading
        rss_start, processes = tree_rss_mib(server.pid)
        print(f"RSS after start (no note yet): {rss_start:.1f} MiB over {processes} processes")

        # Replies must follow their notes, so batches with new customers go out from one thread.
        threads = 1 if args.new_customer_every else 4
        sent = bad = 0
        first_batch_rss = None
        started = time.perf_counter()
        while sent < args.notes:
            count = min(args.batch, args.notes - sent)
            callbacks = feed.batch(count)
            bad += post_all(callback_url, callbacks, threads)
            harness.wait_for_drain(database, args.drain_timeout)
            sent += count
            if first_batch_rss is None:
                first_batch_rss, _ = tree_rss_mib(server.pid)
                print(f"RSS after the first {sent} notes (lexicon built, pools open): {first_batch_rss:.1f} MiB")
            if sent % args.report_every == 0 or sent == args.notes:
                rss, processes = tree_rss_mib(server.pid)
                elapsed = time.perf_counter() - started
                print(f"notes={sent} RSS={rss:.1f} MiB processes={processes} elapsed={elapsed:.0f} s "
                      f"({sent / elapsed:.1f} notes/s)", flush=True)

        time.sleep(2.0)  # let the outbox sender finish the last replies
        rss_end, processes = tree_rss_mib(server.pid)
        print(f"responses other than 200 with an empty body: {bad}")
        print(f"rows: {count_rows(database)}")
        print(f"new customers named: {feed.new_customers}")
        print(f"RSS: start {rss_start:.1f} MiB, after {sent} notes {rss_end:.1f} MiB "
              f"(+{rss_end - rss_start:.1f} MiB) over {processes} processes")
        verdict = "PASS" if rss_end <= TARGET_RSS_MIB and not bad else "FAIL"
        print(f"target RSS <= {TARGET_RSS_MIB:.0f} MiB after {sent} notes: {verdict}")
        return 0 if verdict == "PASS" else 1

if __name__ == "__main__":
    sys.exit(main())
