"""Benchmark the morning scheduler jobs on a large PostgreSQL database: the pool release and
the stage-limit sweep together, then the daily task lists of 1,000 reps.

Creates the database `zhongshu_bench_pipeline` and fills it with set-based SQL (INSERT … SELECT
generate_series). Then it calls the job functions the scheduler calls: `pool_release` and
`stage_overdue` on four working days in a row, then `daily_lists` and `daily_summary`. Each
job runs in its own transaction and writes its outbox rows. At the end the database is dropped.

    .venv/bin/python bench/pipeline.py [--customers 1000000] [--opportunities 1000000] [--reps 1000]
    .venv/bin/python bench/pipeline.py --template   # generate once into a kept template, then copy it

By default the jobs first run untimed on each working day of the 31 days before Monday, as if
the system had been running for a month. Every overdue stay is then recorded on the day it
became overdue, and escalations fall due a few at a time. With `--history 0`, Monday is a first
deployment that records every overdue stay at once, and Wednesday escalates them all.

With `--template` the generated data is kept in `zhongshu_bench_pipeline_template`, and later
runs with `--template` copy it instead of generating again (a copy takes seconds, generating
minutes). The template is kept until `--drop-template` drops it.

Targets: pool release plus stage sweep within 5 s; the morning lists of 1,000 reps within 10 s.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.runtime import Runtime  # noqa: E402
from bot.settings import Settings  # noqa: E402
from handlers.stage_limits import overdue_condition  # noqa: E402
from models.discipline import StageAlert  # noqa: E402
from models.messages import OutboundMessage  # noqa: E402
from models.migrate import upgrade  # noqa: E402
from models.pipeline import Opportunity  # noqa: E402
from models.pool import PoolEvent  # noqa: E402
from models.rules import load_rules  # noqa: E402
from scheduler.jobs import pool_release  # noqa: E402
from scheduler.pipeline_jobs import daily_lists, daily_summary, stage_overdue  # noqa: E402

DATABASE = "zhongshu_bench_pipeline"
TEMPLATE = "zhongshu_bench_pipeline_template"
DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SHANGHAI = ZoneInfo("Asia/Shanghai")
# Monday to Thursday of one ordinary week; the data ends on the Monday morning. Monday records
# every overdue stay for the first time and Wednesday escalates them all, so Tuesday and
# Thursday show the steady state.
SWEEP_DAYS = tuple(datetime(2026, 12, day, 9, 30, tzinfo=SHANGHAI) for day in (7, 8, 9, 10))
LIST_AT = datetime(2026, 12, 10, 8, 30, tzinfo=SHANGHAI)
SUMMARY_AT = datetime(2026, 12, 10, 18, 0, tzinfo=SHANGHAI)
SWEEP_TARGET_SECONDS = 5.0
LISTS_TARGET_SECONDS = 10.0
DEPARTMENTS = 20

# Each statement runs once, in order. `:now` is the Monday morning of SWEEP_DAYS. The `0 * g`
# terms make PostgreSQL draw random() per row instead of once per statement.
GENERATE = [
    ("departments", """
        INSERT INTO departments (name)
        SELECT '大区' || lpad(g::text, 2, '0') FROM generate_series(1, :departments) g"""),
    ("directors", """
        INSERT INTO users (userid, name, role, department_id, active, on_leave)
        SELECT 'director' || g, '总监' || g, 'regional_director', d.id, true, false
        FROM generate_series(1, :departments) g JOIN departments d ON d.name = '大区' || lpad(g::text, 2, '0')"""),
    # One rep in 100 is on leave.
    ("reps", """
        INSERT INTO users (userid, name, role, department_id, manager_id, active, on_leave)
        SELECT 'rep' || g, '销售' || g, 'rep', m.department_id, m.id, true, g % 100 = 0
        FROM generate_series(1, :reps) g JOIN users m ON m.userid = 'director' || (1 + (g - 1) % :departments)"""),
    ("sales director", """
        INSERT INTO users (userid, name, role, active, on_leave)
        VALUES ('salesdirector', '销售总监', 'sales_director', true, false)"""),
    # One customer in ten is in the pool. The others were last followed up within the last
    # 15.5 days, so about 3 % cross the 15-day release limit on the first morning.
    ("customers", """
        INSERT INTO customers (name, aliases, tags, region, owner_id, last_follow_up_at, created_at)
        SELECT '客户' || g, '[]', '[]', '城市' || (g % 40), CASE WHEN g % 10 <> 0 THEN r.id END,
               :now - (random() + 0 * g) * interval '15.5 days', :now - interval '400 days'
        FROM generate_series(1, :customers) g JOIN users r ON r.userid = 'rep' || (1 + g % :reps)"""),
    # Seven in ten opportunities are closed, drawn at random so that every rep has open ones.
    # Open ones entered their stage within the last 30 days, so most short stages are overdue.
    ("opportunities", """
        INSERT INTO opportunities (customer_id, owner_id, title, stage, status, amount, competitors,
                                   stage_entered_at, created_at, updated_at)
        SELECT c.id, coalesce(c.owner_id, r.id), '商机' || g,
               (ARRAY['lead','contacted','qualified','quoting','contracted','fulfilling'])[1 + g % 6],
               CASE WHEN e.roll < 0.3 THEN 'open' WHEN e.roll < 0.6 THEN 'won' ELSE 'lost' END,
               round((10000 + random() * 4990000)::numeric, 2), '[]', e.entered, e.entered - interval '20 days',
               e.entered
        FROM generate_series(1, :opportunities) g
        JOIN customers c ON c.id = 1 + (g::bigint * 7919) % :customers
        JOIN users r ON r.userid = 'rep' || (1 + g % :reps)
        CROSS JOIN LATERAL (SELECT :now - (random() + 0 * g) * interval '30 days' AS entered,
                                   random() + 0 * g AS roll) e"""),
    # About 100 open follow-ups per rep, due from ten days ago to ten days ahead.
    ("follow-up tasks", """
        INSERT INTO follow_up_tasks (assignee_id, customer_id, title, due_date, created_at)
        SELECT c.owner_id, c.id, '回访', (:now)::date - 10 + (g % 21), :now - interval '20 days'
        FROM generate_series(1, :tasks) g JOIN customers c ON c.id = 1 + (g::bigint * 104729) % :customers
        WHERE c.owner_id IS NOT NULL"""),
    # Activities over the last 30 days and on the Thursday the evening summary counts.
    ("activities", """
        INSERT INTO activities (kind, author_id, customer_id, occurred_on, raw_text, extracted,
                                changed_requirements, created_at)
        SELECT 'visit', c.owner_id, c.id, d.day, '拜访记录', '{}', g % 5 = 0, d.day + time '10:00'
        FROM generate_series(1, :activities) g
        JOIN customers c ON c.id = 1 + (g::bigint * 15485863) % :customers
        CROSS JOIN LATERAL (SELECT (:now)::date - 27 + ((random() + 0 * g) * 30)::int AS day) d
        WHERE c.owner_id IS NOT NULL"""),
]


def _admin(admin_url: str, *statements: str) -> list:
    """Run `statements` outside a transaction, as CREATE DATABASE requires, and return their rows."""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        results = [connection.execute(text(statement)) for statement in statements]
        rows = [result.all() if result.returns_rows else [] for result in results]
    admin.dispose()
    return rows


def _url(admin_url: str, database: str) -> str:
    return make_url(admin_url).set(database=database).render_as_string(hide_password=False)


def create_database(admin_url: str, database: str = DATABASE) -> str:
    _admin(admin_url, f"DROP DATABASE IF EXISTS {database} WITH (FORCE)", f"CREATE DATABASE {database}")
    url = _url(admin_url, database)
    upgrade(url)
    return url


def template_exists(admin_url: str) -> bool:
    (rows,) = _admin(admin_url, f"SELECT 1 FROM pg_database WHERE datname = '{TEMPLATE}'")
    return bool(rows)


def copy_template(admin_url: str) -> str:
    _admin(admin_url, f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)", f"CREATE DATABASE {DATABASE} TEMPLATE {TEMPLATE}")
    url = _url(admin_url, DATABASE)
    upgrade(url)  # the template may predate the newest migration
    with create_engine(url).connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE"))
    return url


def drop_database(admin_url: str, database: str = DATABASE) -> None:
    _admin(admin_url, f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


def generate(runtime: Runtime, parameters: dict) -> None:
    for label, statement in GENERATE:
        started = time.perf_counter()
        with runtime.db.engine.begin() as connection:
            result = connection.execute(text(statement), parameters)
        print(f"  {label}: {result.rowcount:,} rows in {time.perf_counter() - started:.1f} s", flush=True)
    with runtime.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        started = time.perf_counter()
        connection.execute(text("VACUUM ANALYZE"))
        print(f"  vacuum analyze: {time.perf_counter() - started:.1f} s", flush=True)


def _count(runtime: Runtime, query) -> int:
    with runtime.db.session() as session:
        return session.scalar(query)


def _timed(job, runtime: Runtime, now: datetime) -> float:
    started = time.perf_counter()
    job(runtime, now)
    return time.perf_counter() - started


def _outbox_rows(runtime: Runtime) -> int:
    return _count(runtime, select(func.count()).select_from(OutboundMessage))


def prepare(admin_url: str, parameters: dict, use_template: bool) -> str:
    """Return the URL of a freshly generated or copied database to run the jobs against."""
    if use_template and template_exists(admin_url):
        started = time.perf_counter()
        url = copy_template(admin_url)
        print(f"copied {TEMPLATE} in {time.perf_counter() - started:.0f} s", flush=True)
        return url
    url = create_database(admin_url, TEMPLATE if use_template else DATABASE)
    runtime = Runtime.from_settings(Settings(_env_file=None, zhongshu_env="test", database_url=url, redis_url=None))
    started = time.perf_counter()
    try:
        generate(runtime, parameters)
    finally:
        runtime.db.dispose()
    print(f"generated in {time.perf_counter() - started:.0f} s", flush=True)
    return copy_template(admin_url) if use_template else url


def run_history(runtime: Runtime, rules, days: int) -> None:
    """Run the release and the sweep on each working day of the `days` before SWEEP_DAYS, untimed."""
    started = time.perf_counter()
    first = SWEEP_DAYS[0] - timedelta(days=days)
    for offset in range(days):
        now = first + timedelta(days=offset)
        if rules.calendar.is_working_day(now.date()):
            pool_release(runtime, now)
            stage_overdue(runtime, now)
    print(f"ran the jobs on the working days since {first:%d %b} in {time.perf_counter() - started:.0f} s", flush=True)


def run(
    admin_url: str, customers: int, opportunities: int, reps: int, keep: bool, use_template: bool, history: int
) -> bool:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else ["?"]
    print(f"commit {commit}, load average {' '.join(load)}", flush=True)

    parameters = {
        "departments": DEPARTMENTS, "reps": reps, "customers": customers, "opportunities": opportunities,
        "tasks": reps * 100, "activities": customers, "now": SWEEP_DAYS[0],
    }
    url = prepare(admin_url, parameters, use_template)
    runtime = Runtime.from_settings(Settings(_env_file=None, zhongshu_env="test", database_url=url, redis_url=None))
    rules = load_rules()
    passed = True
    try:
        if history:
            run_history(runtime, rules, history)
        for now in SWEEP_DAYS:
            outbox_before = _outbox_rows(runtime)
            released_before = _count(runtime, select(func.count()).select_from(PoolEvent))
            release = _timed(pool_release, runtime, now)
            sweep = _timed(stage_overdue, runtime, now)
            released = _count(runtime, select(func.count()).select_from(PoolEvent)) - released_before
            new_stays = _count(runtime, select(func.count()).select_from(StageAlert).where(StageAlert.first_reminded_at == now))
            escalated = _count(runtime, select(func.count()).select_from(StageAlert).where(StageAlert.escalated_at == now))
            overdue = _count(runtime, select(func.count()).select_from(Opportunity).where(overdue_condition(rules, now.date())))
            total = release + sweep
            ok = total <= SWEEP_TARGET_SECONDS
            passed &= ok
            print(
                f"{now:%a %d %b}: pool release {release:.2f} s ({released:,} customers), stage sweep {sweep:.2f} s "
                f"({overdue:,} overdue, {new_stays:,} newly overdue, {escalated:,} escalated), together {total:.2f} s "
                f"[{'pass' if ok else 'FAIL'}], outbox +{_outbox_rows(runtime) - outbox_before:,}",
                flush=True,
            )

        for label, job, now, target in (
            ("morning lists", daily_lists, LIST_AT, LISTS_TARGET_SECONDS),
            ("evening summary", daily_summary, SUMMARY_AT, LISTS_TARGET_SECONDS),
        ):
            outbox_before = _outbox_rows(runtime)
            duration = _timed(job, runtime, now)
            ok = duration <= target
            passed &= ok
            print(
                f"{label}: {duration:.2f} s, outbox +{_outbox_rows(runtime) - outbox_before:,} "
                f"[{'pass' if ok else 'FAIL'}]",
                flush=True,
            )
        again = _timed(daily_lists, runtime, LIST_AT)
        print(f"morning lists again (sends nothing): {again:.2f} s", flush=True)
    finally:
        runtime.db.dispose()
        if not keep:
            drop_database(admin_url)
    return passed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--admin-url", default=DEFAULT_ADMIN_URL, help="PostgreSQL URL allowed to create databases")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--opportunities", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=1000)
    parser.add_argument("--keep", action="store_true", help="keep the database for inspection")
    parser.add_argument(
        "--history", type=int, default=31, metavar="DAYS",
        help="run the jobs untimed on the working days of the DAYS before Monday; 0 for a first deployment",
    )
    parser.add_argument("--template", action="store_true", help=f"copy {TEMPLATE}, generating it first if missing")
    parser.add_argument("--drop-template", action="store_true", help=f"drop {TEMPLATE} and exit")
    args = parser.parse_args()
    if args.drop_template:
        drop_database(args.admin_url, TEMPLATE)
        return 0
    return 0 if run(args.admin_url, args.customers, args.opportunities, args.reps, args.keep, args.template, args.history) else 1


if __name__ == "__main__":
    sys.exit(main())
