"""Note extraction speed on one core, lexicon build time, and the cold path to the first note.

The cold path runs in a fresh Python process (`--cold-child`): it imports the extractor,
reads the world, builds the lexicon and extracts one note. Its wall time is taken by the
parent from just before the process starts to just after it exits, so interpreter start-up
and imports count.

Example: .venv/bin/python bench/extraction.py --seconds 10 --cold-runs 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import datetime

import harness

TARGET_NOTES_PER_SECOND = 1000.0
TARGET_COLD_SECONDS = 2.0


def measure_throughput(seconds: float, warmup_rounds: int) -> tuple[int, float, list[float]]:
    """Extract the dev notes in turn for `seconds`; return notes, elapsed seconds, per-note ms."""
    from bot.understanding.extract import extract_note
    from bot.understanding.lexicon import Lexicon

    lexicon = Lexicon.from_world(harness.load_world())
    notes = [(note["text"], datetime.fromisoformat(note["now"])) for note in harness.load_notes()]
    for _ in range(warmup_rounds):
        for text, now in notes:
            extract_note(text, now, lexicon)

    per_note_ms = []
    count = 0
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        for text, now in notes:
            before = time.perf_counter()
            extract_note(text, now, lexicon)
            per_note_ms.append((time.perf_counter() - before) * 1000)
        count += len(notes)
    return count, time.perf_counter() - started, per_note_ms


def measure_lexicon_builds(builds: int) -> tuple[float, list[float]]:
    """Return the first build (loads jieba's base dictionary) and later builds, in seconds."""
    from bot.understanding.lexicon import Lexicon

    world = harness.load_world()
    times = []
    for _ in range(builds + 1):
        started = time.perf_counter()
        Lexicon.from_world(world)
        times.append(time.perf_counter() - started)
    return times[0], times[1:]


def cold_child() -> int:
    """Import, build the lexicon, extract the first dev note and print its customers as JSON."""
    from bot.understanding.extract import extract_note
    from bot.understanding.lexicon import Lexicon

    world = json.loads(harness.WORLD_PATH.read_text(encoding="utf-8"))
    lexicon = Lexicon.from_world(world)
    note = harness.load_notes()[0]
    facts = extract_note(note["text"], datetime.fromisoformat(note["now"]), lexicon)
    print(json.dumps([mention.name for mention in facts.customers], ensure_ascii=False))
    return 0


def measure_cold_runs(runs: int) -> list[float]:
    """Run the cold path `runs` times in fresh processes pinned to one core; return wall seconds."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        completed = subprocess.run(
            [sys.executable, __file__, "--cold-child"], capture_output=True, text=True, check=False,
            preexec_fn=_pin_to_first_core,
        )
        elapsed = time.perf_counter() - started
        if completed.returncode != 0 or not completed.stdout.strip():
            raise RuntimeError(f"cold run failed with code {completed.returncode}: {completed.stderr[-500:]}")
        times.append(elapsed)
    return times


def _pin_to_first_core() -> None:
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the timed extraction loop (default 10)")
    parser.add_argument("--warmup-rounds", type=int, default=3, help="untimed passes over the dev notes (default 3)")
    parser.add_argument("--lexicon-builds", type=int, default=5, help="lexicon builds after the first (default 5)")
    parser.add_argument("--cold-runs", type=int, default=5, help="fresh processes for the cold path (default 5)")
    parser.add_argument("--cold-child", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.cold_child:
        return cold_child()

    print(f"machine: {harness.machine_summary()}")
    # One core: the extractor is single-threaded, and pinning keeps the scheduler from
    # moving it between the two cores that other work shares.
    _pin_to_first_core()
    print(f"pinned to CPU {sorted(os.sched_getaffinity(0))}")

    cold = measure_cold_runs(args.cold_runs)
    print(
        f"cold path (fresh process: imports, world, lexicon, first note): runs={len(cold)} "
        f"min={min(cold):.2f} median={statistics.median(cold):.2f} max={max(cold):.2f} s"
    )

    first_build, later_builds = measure_lexicon_builds(args.lexicon_builds)
    print(
        f"lexicon build: first {first_build * 1000:.0f} ms (loads jieba's base dictionary), "
        f"later median {statistics.median(later_builds) * 1000:.1f} ms over {len(later_builds)} builds"
    )

    count, elapsed, per_note_ms = measure_throughput(args.seconds, args.warmup_rounds)
    ordered = sorted(per_note_ms)
    rate = count / elapsed
    print(
        f"extraction: {count} notes in {elapsed:.2f} s = {rate:.0f} notes/s; per note "
        f"p50={harness.percentile(ordered, 0.5):.3f} p99={harness.percentile(ordered, 0.99):.3f} "
        f"max={ordered[-1]:.3f} ms"
    )

    rate_ok = rate >= TARGET_NOTES_PER_SECOND
    cold_ok = statistics.median(cold) <= TARGET_COLD_SECONDS
    print(f"target >= {TARGET_NOTES_PER_SECOND:.0f} notes/s: {'PASS' if rate_ok else 'FAIL'}")
    print(f"target cold path <= {TARGET_COLD_SECONDS:.0f} s (median): {'PASS' if cold_ok else 'FAIL'}")
    return 0 if rate_ok and cold_ok else 1


if __name__ == "__main__":
    sys.exit(main())
