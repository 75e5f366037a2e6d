"""Benchmark the weekly report on a large PostgreSQL database, and the chart renders.

Creates the database `zhongshu_bench_reports` and fills it with set-based SQL (INSERT … SELECT
generate_series). Then it times every figure of the weekly report for the whole company and for
one regional director's team, times each chart's render after a warm-up, and drops the database.

    .venv/bin/python bench/reports.py [--opportunities 1000000] [--activities 5000000]

Targets: the weekly report's figures within 2 s in total, each chart within 300 ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from models.db import Database  # noqa: E402
from models.migrate import upgrade  # noqa: E402
from models.org import User  # noqa: E402
from reports import charts  # noqa: E402
from reports.figures import collection_trend, funnel, leaderboard  # noqa: E402
from reports.kpis import KPI_DEFINITIONS  # noqa: E402
from reports.scope import COMPANY, Period, Scope, scope_for  # noqa: E402
from reports.weekly import COLLECTION_MONTHS  # noqa: E402

DATABASE = "zhongshu_bench_reports"
DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
REPORT_WEEK = Period.week_of(date(2026, 3, 25))
DATA_START = date(2024, 4, 1)
DATA_DAYS = 730  # two years of history ending 31 March 2026
DEPARTMENTS = 10
REPS = 200
CUSTOMERS = 50_000
FIGURES_TARGET_SECONDS = 2.0
CHART_TARGET_SECONDS = 0.3

# Each statement runs once, in order. The `0 * g` terms tie random() to the row, so that
# PostgreSQL draws a new number per row instead of computing the subquery once.
GENERATE = [
    ("departments", """
        INSERT INTO departments (name)
        SELECT '大区' || lpad(g::text, 2, '0') FROM generate_series(1, :departments) g"""),
    ("directors", """
        INSERT INTO users (userid, name, role, department_id, active, on_leave)
        SELECT 'director' || g, '总监' || g, 'regional_director', d.id, true, false
        FROM generate_series(1, :departments) g JOIN departments d ON d.name = '大区' || lpad(g::text, 2, '0')"""),
    ("reps", """
        INSERT INTO users (userid, name, role, department_id, manager_id, active, on_leave)
        SELECT 'rep' || g, '销售' || g, 'rep', m.department_id, m.id, g % 50 <> 0, false
        FROM generate_series(1, :reps) g JOIN users m ON m.userid = 'director' || (1 + (g - 1) % :departments)"""),
    ("sales director", """
        INSERT INTO users (userid, name, role, active, on_leave)
        VALUES ('salesdirector', '销售总监', 'sales_director', true, false)"""),
    ("customers", """
        INSERT INTO customers (name, aliases, tags, region, owner_id, created_at)
        SELECT '客户' || g, '[]', '[]', '城市' || (g % 40), r.id, now()
        FROM generate_series(1, :customers) g JOIN users r ON r.userid = 'rep' || (1 + g % :reps)"""),
    # Stage rank 0..5 falls off like a funnel; amounts from 1万 to 500万 元.
    ("opportunities", """
        INSERT INTO opportunities (customer_id, owner_id, title, stage, status, amount, competitors,
                                   stage_entered_at, created_at, updated_at, closed_at)
        SELECT c.id, c.owner_id, '商机' || g,
               (ARRAY['lead','contacted','qualified','quoting','contracted','fulfilling'])[s.rank + 1],
               CASE WHEN s.rank = 5 AND g % 3 = 0 THEN 'won' WHEN g % 7 = 0 THEN 'lost' ELSE 'open' END,
               round((10000 + random() * 4990000)::numeric, 2), '[]', t.created, t.created, t.created,
               CASE WHEN (s.rank = 5 AND g % 3 = 0) OR g % 7 = 0 THEN t.created + interval '30 days' END
        FROM generate_series(1, :opportunities) g
        JOIN customers c ON c.id = 1 + (g::bigint * 7919) % :customers
        CROSS JOIN LATERAL (SELECT width_bucket(random() + 0 * g, 0, 1, 100) AS p) roll
        CROSS JOIN LATERAL (SELECT CASE WHEN roll.p <= 35 THEN 0 WHEN roll.p <= 55 THEN 1 WHEN roll.p <= 70 THEN 2
                                        WHEN roll.p <= 82 THEN 3 WHEN roll.p <= 92 THEN 4 ELSE 5 END AS rank) s
        CROSS JOIN LATERAL (SELECT timestamptz '2024-04-01 00:00+08'
                                   + (random() + 0 * g) * :days * interval '1 day' AS created) t"""),
    # One move per stage up to the current one, a day apart; every tenth deal skips, every
    # thirteenth records a move back.
    ("stage changes", """
        INSERT INTO stage_changes (opportunity_id, from_stage, to_stage, kind, user_id, changed_at)
        SELECT o.id,
               CASE WHEN k.step > 0 THEN (ARRAY['lead','contacted','qualified','quoting','contracted'])[k.step] END,
               (ARRAY['lead','contacted','qualified','quoting','contracted','fulfilling'])[k.step + 1],
               CASE WHEN k.step = 0 THEN 'created' WHEN o.id % 10 = 0 AND k.step = 2 THEN 'skip'
                    WHEN o.id % 13 = 0 AND k.step = 1 THEN 'back' ELSE 'forward' END,
               o.owner_id, o.created_at + k.step * interval '1 day'
        FROM opportunities o
        CROSS JOIN LATERAL generate_series(0, array_position(
            ARRAY['lead','contacted','qualified','quoting','contracted','fulfilling'], o.stage) - 1) AS k(step)"""),
    ("activities", """
        INSERT INTO activities (kind, author_id, customer_id, occurred_on, raw_text, extracted,
                                changed_requirements, created_at)
        SELECT (ARRAY['visit','call','wechat','other'])[1 + g % 4], r.id, 1 + (g::bigint * 104729) % :customers,
               CASE WHEN g % 20 = 0 THEN NULL ELSE d.day END, '拜访记录', '{}', false,
               d.day + time '10:00' AT TIME ZONE 'Asia/Shanghai'
        FROM generate_series(1, :activities) g
        JOIN users r ON r.userid = 'rep' || (1 + g % :reps)
        CROSS JOIN LATERAL (SELECT date '2024-04-01' + ((random() + 0 * g) * (:days - 1))::int AS day) d"""),
    ("quotes", """
        INSERT INTO quotes (number, customer_id, opportunity_id, author_id, status, requested_at, sent_at)
        SELECT 'Q' || o.id, o.customer_id, o.id, o.owner_id, 'sent', o.created_at + interval '2 days',
               CASE WHEN o.id % 9 <> 0 THEN o.created_at + interval '2 days' + random() * interval '48 hours' END
        FROM opportunities o WHERE o.stage IN ('quoting', 'contracted', 'fulfilling')"""),
    ("contracts", """
        INSERT INTO contracts (number, customer_id, opportunity_id, owner_id, amount, status, signed_on, created_at)
        SELECT 'HT' || o.id, o.customer_id, o.id, o.owner_id, coalesce(o.amount, 100000),
               CASE WHEN o.id % 50 = 0 THEN 'cancelled' ELSE 'signed' END,
               (o.created_at + interval '4 days')::date, o.created_at + interval '4 days'
        FROM opportunities o WHERE o.stage IN ('contracted', 'fulfilling')"""),
    # Two instalments per contract, planned 30 and 60 days after signing. Most arrive up to 10
    # days after the plan. One in three first and one in four second instalments never arrive.
    ("payments", """
        INSERT INTO payments (contract_id, customer_id, amount, planned_on, received_on, created_at)
        SELECT k.id, k.customer_id, round(k.amount / 2, 2), k.signed_on + i.offset_days,
               CASE WHEN k.id % (2 + i.n) <> 0 AND k.signed_on + i.offset_days + 5 < date '2026-03-31'
                    THEN k.signed_on + i.offset_days + (k.id % 11)::int END,
               k.created_at
        FROM contracts k CROSS JOIN (VALUES (1, 30), (2, 60)) AS i(n, offset_days)"""),
]


def _timed(action, repeats: int = 1) -> list[float]:
    durations = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        durations.append(time.perf_counter() - started)
    return durations


def create_database(admin_url: str) -> str:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {DATABASE}"))
    admin.dispose()
    url = make_url(admin_url).set(database=DATABASE).render_as_string(hide_password=False)
    upgrade(url)
    return url


def drop_database(admin_url: str) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
    admin.dispose()


def generate(db: Database, parameters: dict) -> dict[str, int]:
    """Run the generating statements; return the row count of each table filled."""
    counts = {}
    for label, statement in GENERATE:
        started = time.perf_counter()
        with db.engine.begin() as connection:
            result = connection.execute(text(statement), parameters)
        counts[label] = result.rowcount
        print(f"  {label}: {result.rowcount:,} rows in {time.perf_counter() - started:.1f} s", flush=True)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        started = time.perf_counter()
        connection.execute(text("VACUUM ANALYZE"))
        print(f"  vacuum analyze: {time.perf_counter() - started:.1f} s", flush=True)
    return counts


def figure_steps(scope: Scope, period: Period) -> list[tuple[str, callable]]:
    """Return (label, function of a session) for every query of the weekly report."""
    months = period.last_months(COLLECTION_MONTHS)
    before = period.previous()
    steps = [
        ("funnel", lambda s: funnel(s, scope, period)),
        ("collection (12 months)", lambda s: collection_trend(s, scope, months)),
        ("leaderboard", lambda s: leaderboard(s, scope, period)),
    ]
    for definition in KPI_DEFINITIONS:
        steps.append((
            f"KPI {definition.key} (week and week before)",
            lambda s, m=definition.measure: (m(s, scope, period), m(s, scope, before)),
        ))
    return steps


def time_figures(db: Database, scope: Scope, repeats: int) -> tuple[dict[str, float], list[float]]:
    """Time each figure `repeats` times after one warm-up; return medians and the run totals."""
    steps = figure_steps(scope, REPORT_WEEK)
    per_step: dict[str, list[float]] = {label: [] for label, _ in steps}
    totals = []
    with db.session() as session:
        for label, step in steps:
            step(session)  # warm-up: plans cached, pages in memory
        for _ in range(repeats):
            run_total = 0.0
            for label, step in steps:
                started = time.perf_counter()
                step(session)
                elapsed = time.perf_counter() - started
                per_step[label].append(elapsed)
                run_total += elapsed
            totals.append(run_total)
    return {label: statistics.median(values) for label, values in per_step.items()}, totals


def time_charts(db: Database, scope: Scope, repeats: int) -> dict[str, list[float]]:
    """Render each chart once to warm up, then `repeats` times; return the durations."""
    with db.session() as session:
        funnel_data = funnel(session, scope, REPORT_WEEK)
        months = collection_trend(session, scope, REPORT_WEEK.last_months(COLLECTION_MONTHS))
        rows = leaderboard(session, scope, REPORT_WEEK)
    folder = Path(tempfile.mkdtemp(prefix="zhongshu-bench-charts-"))
    renders = {
        "funnel": lambda: charts.render_funnel(funnel_data, REPORT_WEEK, folder / "funnel.png"),
        "collection": lambda: charts.render_collection(months, scope.label, folder / "collection.png"),
        "leaderboard": lambda: charts.render_leaderboard(rows, scope.label, REPORT_WEEK, folder / "leaderboard.png"),
    }
    results = {}
    for name, render in renders.items():
        render()
        results[name] = _timed(render, repeats)
        print(f"  {name}: {(folder / f'{name}.png').stat().st_size:,} bytes", flush=True)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--opportunities", type=int, default=1_000_000, help="opportunities to generate")
    parser.add_argument("--activities", type=int, default=5_000_000, help="activities to generate")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs of each figure and chart")
    parser.add_argument("--admin-url", default=DEFAULT_ADMIN_URL, help="PostgreSQL URL allowed to create databases")
    parser.add_argument("--keep", action="store_true", help="keep the database instead of dropping it")
    parser.add_argument("--reuse", action="store_true", help="time against a database kept by --keep, generating nothing")
    args = parser.parse_args()

    parameters = {
        "departments": DEPARTMENTS, "reps": REPS, "customers": CUSTOMERS, "days": DATA_DAYS,
        "opportunities": args.opportunities, "activities": args.activities,
    }
    if args.reuse:
        url = make_url(args.admin_url).set(database=DATABASE).render_as_string(hide_password=False)
        db = Database(url)
    else:
        print(f"creating {DATABASE} and generating data", flush=True)
        started = time.perf_counter()
        db = Database(create_database(args.admin_url))
    failed = False
    try:
        if not args.reuse:
            generate(db, parameters)
            print(f"generated in {time.perf_counter() - started:.0f} s", flush=True)

        with db.session() as session:
            director = session.scalars(select(User).where(User.userid == "director1")).one()
            team = scope_for(director)
        for scope_name, scope in (("company", COMPANY), ("regional director", team)):
            medians, totals = time_figures(db, scope, args.repeats)
            print(f"weekly report figures, {scope_name} scope, week {REPORT_WEEK.start}:")
            for label, seconds in medians.items():
                print(f"  {label}: {seconds * 1000:.0f} ms (median)")
            worst = max(totals)
            verdict = "pass" if worst <= FIGURES_TARGET_SECONDS else "FAIL"
            failed |= worst > FIGURES_TARGET_SECONDS
            print(f"  total: median {statistics.median(totals):.2f} s, max {worst:.2f} s "
                  f"(target {FIGURES_TARGET_SECONDS} s): {verdict}", flush=True)

        print("chart renders after warm-up:")
        for name, durations in time_charts(db, COMPANY, args.repeats).items():
            worst = max(durations)
            verdict = "pass" if worst <= CHART_TARGET_SECONDS else "FAIL"
            failed |= worst > CHART_TARGET_SECONDS
            print(f"  {name}: median {statistics.median(durations) * 1000:.0f} ms, "
                  f"max {worst * 1000:.0f} ms (target {CHART_TARGET_SECONDS * 1000:.0f} ms): {verdict}")
    finally:
        db.dispose()
        if not args.keep:
            drop_database(args.admin_url)
            print(f"dropped {DATABASE}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
