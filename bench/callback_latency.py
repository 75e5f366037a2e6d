"""Callback response latency at a steady message rate, with the real server, PostgreSQL and Redis.

The server runs as `zhongshu serve` in a child process, with its inbox workers processing the
notes while they arrive, and the WeCom emulator runs in another child process. All callbacks
are encrypted before the timed part. Senders follow an open-loop schedule: message i is due at
start + i / rate, and its latency runs from that due time to the end of the response. A slow
response therefore also counts against the messages queued behind it instead of hiding them.

Example: .venv/bin/python bench/callback_latency.py --messages 3000 --rate 100
"""

from __future__ import annotations

import argparse
import re
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import harness
import httpx

TARGET_P99_MS = 50.0


@dataclass
class Result:
    index: int
    due: float
    sent: float
    done: float
    status: int | None
    body: bytes
    error: str | None = None


def build_callbacks(device, count: int, first_msg_id: int) -> list[harness.EncryptedCallback]:
    """Encrypt `count` distinct notes: dev notes in turn, their numbers varied, each with its own MsgId."""
    notes = harness.load_notes()
    callbacks = []
    for i in range(count):
        note = notes[i % len(notes)]
        text = harness.vary_note(note["text"], i // len(notes))
        create_time = int(datetime.fromisoformat(note["now"]).timestamp())
        callbacks.append(harness.encrypt_text_message(device, note["author"], text, first_msg_id + i, create_time))
    return callbacks


def send_on_schedule(
    url: str, callbacks: list[harness.EncryptedCallback], rate: float, threads: int, start: float
) -> list[Result]:
    """Post callback i at `start + i / rate` from `threads` connections; return one Result each."""
    results: list[Result | None] = [None] * len(callbacks)
    headers = {"Content-Type": "text/xml; charset=utf-8"}

    def run(offset: int) -> None:
        with httpx.Client(timeout=10.0) as client:
            for index in range(offset, len(callbacks), threads):
                due = start + index / rate
                delay = due - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                sent = time.perf_counter()
                callback = callbacks[index]
                try:
                    response = client.post(url, params=callback.params, content=callback.body, headers=headers)
                    results[index] = Result(index, due, sent, time.perf_counter(), response.status_code, response.content)
                except httpx.HTTPError as error:
                    results[index] = Result(index, due, sent, time.perf_counter(), None, b"", repr(error))

    workers = [threading.Thread(target=run, args=(offset,), name=f"sender-{offset}") for offset in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return [result for result in results if result is not None]


def server_logged_ms(log_path: Path, last: int) -> list[float]:
    """Return the server's own `callback stored ... ms=` times of the last `last` stored callbacks."""
    pattern = re.compile(r"callback stored: .* ms=([\d.]+)")
    times = [float(m.group(1)) for line in log_path.read_text(errors="replace").splitlines() if (m := pattern.search(line))]
    return times[-last:]


def describe(label: str, values_ms: list[float]) -> str:
    ordered = sorted(values_ms)
    p = harness.percentile
    return (
        f"{label}: n={len(ordered)} p50={p(ordered, 0.50):.1f} p95={p(ordered, 0.95):.1f} "
        f"p99={p(ordered, 0.99):.1f} max={ordered[-1]:.1f} ms"
    )


def _verdict(latency_ms: list[float], bad: list[Result]) -> int:
    p99 = harness.percentile(sorted(latency_ms), 0.99)
    verdict = "PASS" if p99 <= TARGET_P99_MS and not bad else "FAIL"
    print(f"target p99 <= {TARGET_P99_MS:.0f} ms with every response 200 and empty: {verdict} (p99 {p99:.1f} ms)")
    return 0 if verdict == "PASS" else 1


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=3000, help="timed callbacks to send (default 3000)")
    parser.add_argument("--rate", type=float, default=100.0, help="callbacks per second (default 100)")
    parser.add_argument("--threads", type=int, default=4, help="sending threads, one connection each (default 4)")
    parser.add_argument("--warmup", type=int, default=100, help="untimed callbacks sent first at 20/s (default 100)")
    harness.add_server_arguments(parser)
    parser.add_argument(
        "--inbox-workers", type=int, default=2,
        help="INBOX_WORKERS of the server (default 2); 0 stores without processing and skips the drain",
    )
    parser.add_argument(
        "--worker-process-threads", type=int, default=0,
        help="run a separate `zhongshu worker` process with this many inbox threads (use with --inbox-workers 0)",
    )
    parser.add_argument("--drain-timeout", type=float, default=900.0, help="seconds to wait for the inbox to drain")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    harness.stop_on_sigterm()
    log_dir = harness.prepare_log_dir(args.log_dir)
    print(f"machine: {harness.machine_summary()}")
    print(f"database: {args.database}, redis: {args.redis_url or 'none'}, logs: {log_dir}")

    redis_url = args.redis_url or None
    running = harness.running_bot(
        args.database, args.postgres_url, redis_url, log_dir, inbox_workers=args.inbox_workers,
        worker_process_threads=args.worker_process_threads,
    )
    with running as bot:
        database, server, callback_url = bot.database, bot.server, bot.callback_url
        device = harness.make_device(callback_url)

        started = time.perf_counter()
        warmup = build_callbacks(device, args.warmup, first_msg_id=1)
        timed = build_callbacks(device, args.messages, first_msg_id=1_000_000)
        print(f"encrypted {len(warmup) + len(timed)} callbacks in {time.perf_counter() - started:.1f} s")

        if warmup:
            send_on_schedule(callback_url, warmup, 20.0, args.threads, time.perf_counter() + 0.1)
            if args.inbox_workers > 0 or args.worker_process_threads:
                harness.wait_for_drain(database, args.drain_timeout)
            print(f"warm-up: {len(warmup)} callbacks sent")

        start = time.perf_counter() + 0.2
        results = send_on_schedule(callback_url, timed, args.rate, args.threads, start)
        last_response = max(result.done for result in results)
        pending_at_last_response = database.unfinished_inbox()

        bad = [r for r in results if r.status != 200 or r.body != b""]
        latency = [(r.done - r.due) * 1000 for r in results if r.status is not None]
        service = [(r.done - r.sent) * 1000 for r in results if r.status is not None]
        lag = [(r.sent - r.due) * 1000 for r in results]
        send_span = last_response - start
        print(f"sent {len(results)} callbacks in {send_span:.1f} s ({len(results) / send_span:.1f}/s achieved)")
        print(f"responses other than 200 with an empty body: {len(bad)}")
        for result in bad[:5]:
            print(f"  #{result.index}: status={result.status} body={result.body[:80]!r} error={result.error}")
        print(describe("response latency from due time", latency))
        print(describe("response latency from actual send", service))
        print(describe("sender lag behind schedule", lag))
        logged = server_logged_ms(server.log_path, len(results))
        if logged:
            print(describe("server-logged callback time", logged))

        print(f"unfinished inbox rows at the last response: {pending_at_last_response}")
        if args.inbox_workers == 0 and not args.worker_process_threads:
            return _verdict(latency, bad)
        drain_seconds = harness.wait_for_drain(database, args.drain_timeout)
        finished = time.perf_counter()
        failed_rows = database.scalar("SELECT count(*) FROM inbound_messages WHERE status = 'failed'")
        print(f"inbox drained {drain_seconds:.1f} s after the last response; "
              f"{len(results) / (finished - start):.1f} messages/s processed over the whole run; "
              f"inbox rows failed: {failed_rows}")

        return _verdict(latency, bad)

if __name__ == "__main__":
    sys.exit(main())
