"""The `zhongshu` command: serve, migrate, import, parse and the local development setup."""

import argparse
import json
import logging
import sys
from pathlib import Path

from pydantic import ValidationError

from bot.settings import SettingsError, get_settings

log = logging.getLogger(__name__)


def _configure_logging(level: str, quiet: bool = False) -> None:
    """Log to standard error; `quiet` keeps client commands to warnings so their output reads clean."""
    logging.basicConfig(
        level="WARNING" if quiet else level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # Alembic announces every plugin it loads and httpx every request at INFO.
    for noisy in ("alembic.runtime.plugins", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _cmd_serve(args) -> int:
    import uvicorn

    settings = get_settings()
    settings.check_production_secrets()
    if settings.is_sqlite and args.workers > 1:
        print("SQLite 只支持一个服务进程;多个进程请配置 DATABASE_URL(PostgreSQL)和 REDIS_URL。", file=sys.stderr)
        return 2
    uvicorn.run(
        "bot.app:create_app", factory=True, host=args.host, port=args.port, workers=args.workers,
        log_level=settings.log_level.lower(),
    )
    return 0


def _cmd_worker(args) -> int:
    from bot.worker_process import run_worker

    return run_worker(get_settings(), args.threads)


def _cmd_db_upgrade(args) -> int:
    from models.migrate import upgrade

    upgrade(get_settings().database_url, args.revision)
    print("数据库已升级到最新版本")
    return 0


def _cmd_import_world(args) -> int:
    from models.db import Database
    from models.migrate import upgrade
    from models.world import WorldFormatError, import_world

    settings = get_settings()
    try:
        world = json.loads(Path(args.file).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        print(f"无法读取 {args.file}:{error}", file=sys.stderr)
        return 2
    if settings.is_sqlite:
        upgrade(settings.database_url)
    db = Database(settings.database_url)
    try:
        with db.session() as session:
            summary = import_world(session, world)
    except WorldFormatError as error:
        print(f"导入失败,没有写入任何数据:{error}", file=sys.stderr)
        return 2
    print(
        f"已导入:用户 {summary.users},部门 {summary.departments},客户 {summary.customers},"
        f"产品 {summary.products},竞争对手 {summary.competitors}"
    )
    return 0


def _cmd_import_shipments(args) -> int:
    import csv

    from handlers.order_status import SHIPMENT_COLUMNS, import_shipments, parse_shipment_rows
    from models.db import Database
    from models.migrate import upgrade

    settings = get_settings()
    try:
        with open(args.file, encoding="utf-8-sig", newline="") as handle:
            records, errors = parse_shipment_rows(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        print(f"无法读取 {args.file}:{error}", file=sys.stderr)
        return 2
    if settings.is_sqlite:
        upgrade(settings.database_url)
    db = Database(settings.database_url)
    created = updated = 0
    if not errors:
        try:
            with db.session() as session:
                created, updated, errors = import_shipments(session, records)
                if errors:
                    raise LookupError("unknown contracts")  # rolls the whole file back
        except LookupError:
            pass
    if errors:
        print("导入失败,没有写入任何数据。列名应为:" + ",".join(SHIPMENT_COLUMNS), file=sys.stderr)
        for error in errors:
            print(f"  {error}", file=sys.stderr)
        return 2
    print(f"已导入发货记录:新增 {created} 批,更新 {updated} 批")
    return 0


def _cmd_parse(args) -> int:
    from bot.understanding.evaluation import parse_lines

    world = json.loads(Path(args.world).read_text(encoding="utf-8"))
    for line in parse_lines(world, sys.stdin):
        sys.stdout.write(line + "\n")
    return 0


def _cmd_jobs(args) -> int:
    from zoneinfo import ZoneInfo

    from models.db import Database
    from scheduler.service import job_statuses, scheduled_jobs

    settings = get_settings()
    timezone = ZoneInfo(settings.timezone)
    db = Database(settings.database_url)
    try:
        statuses = job_statuses(db, timezone, jobs=scheduled_jobs(settings))
    finally:
        db.dispose()

    def local(value) -> str:
        return value.astimezone(timezone).strftime("%Y-%m-%d %H:%M") if value else "-"

    header = ("job", "schedule (cron)", "last run", "status", "ms", "next run")
    rows, errors = [], {}
    for status in statuses:
        run = status.last_run
        rows.append((
            status.job.id, ",".join(f"{key}={value}" for key, value in status.job.cron.items()),
            local(run.started_at if run else None), run.status if run else "-",
            f"{run.duration_ms:.0f}" if run else "-", local(status.next_run_at),
        ))
        if run and run.error:
            errors[status.job.id] = run.error
    # Columns as wide as their longest value: the weekly report's schedule is long.
    widths = [max(len(row[column]) for row in [header, *rows]) for column in range(len(header))]
    duration_column = header.index("ms")
    for row in [header, *rows]:
        cells = []
        for column, (value, width) in enumerate(zip(row, widths)):
            cells.append(value.rjust(width) if column == duration_column else value.ljust(width))
        print("  ".join(cells).rstrip())
        if row[0] in errors:
            print(f"  last error: {errors[row[0]]}")
    return 0


def _cmd_groups_create(args) -> int:
    from bot.stores import open_store
    from bot.wecom.client import WeComClient, WeComUnavailable
    from bot.wecom.groups import AppChatClient
    from handlers.report_delivery import ReportTargetsError, load_report_groups

    settings = get_settings()
    try:
        groups = load_report_groups(settings.report_targets_path, settings.report_robot_keys)
    except ReportTargetsError as error:
        print(f"报表群配置有误:{error}", file=sys.stderr)
        return 2
    failed = 0
    with WeComClient.from_settings(settings, open_store(settings.redis_url, settings.redis_prefix)) as client:
        chats = AppChatClient(client)
        for group in groups:
            if group.channel == "robot":
                print(f"{group.name}:群机器人,无需创建")
                continue
            try:
                result = chats.create(group.chatid, group.title, group.owner, group.members)
            except WeComUnavailable as error:
                print(f"{group.name}:无法连接企业微信({error.reason}),请稍后重试", file=sys.stderr)
                return 1
            if result.ok:
                print(f"{group.name}:已创建群聊 {group.chatid}")
            elif result.already_exists:
                print(f"{group.name}:群聊 {group.chatid} 已存在")
            else:
                failed += 1
                print(f"{group.name}:创建失败,errcode {result.errcode} {result.errmsg}", file=sys.stderr)
    return 1 if failed else 0


def _cmd_dev(args) -> int:
    from bot import devserver

    if args.dev_command == "send":
        return devserver.send(args.user, args.text, args.bot_port, args.emulator_port, args.timeout)
    return devserver.run(args.bot_port, args.emulator_port)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="zhongshu", description="Zhongshu, the sales hub bot for WeCom")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the callback server and its workers")
    serve.add_argument("--host", default="0.0.0.0", help="address to listen on")
    serve.add_argument("--port", type=int, default=8000, help="TCP port to listen on")
    serve.add_argument("--workers", type=int, default=1, help="server processes (PostgreSQL only above 1)")
    serve.set_defaults(handler=_cmd_serve)

    worker = commands.add_parser("worker", help="run inbox workers, the outbox sender and the scheduler without HTTP")
    worker.add_argument("--threads", type=int, default=2, help="inbox worker threads in this process")
    worker.set_defaults(handler=_cmd_worker)

    db = commands.add_parser("db", help="database migrations").add_subparsers(dest="db_command", required=True)
    upgrade = db.add_parser("upgrade", help="apply migrations up to a revision")
    upgrade.add_argument("revision", nargs="?", default="head", help="Alembic revision (default: head)")
    upgrade.set_defaults(handler=_cmd_db_upgrade)

    importing = commands.add_parser("import", help="load data").add_subparsers(dest="import_command", required=True)
    world = importing.add_parser("world", help="load users, customers, products and competitors from world JSON")
    world.add_argument("file", help="path of the world JSON file (see docs/world-format.md)")
    world.set_defaults(handler=_cmd_import_world)
    shipments = importing.add_parser(
        "shipments", help="record shipment batches from a UTF-8 CSV file (columns: contract_number, batch_no, "
        "quantity, unit, shipped_on, vehicle_plate, waybill_no, delivered_on; dates as 2026-06-01)",
    )
    shipments.add_argument("file", help="path of the CSV file")
    shipments.set_defaults(handler=_cmd_import_shipments)

    parse = commands.add_parser("parse", help="extract note fields from JSON lines on standard input")
    parse.add_argument("--world", required=True, help="world JSON whose customers and products to match")
    parse.set_defaults(handler=_cmd_parse)

    jobs = commands.add_parser("jobs", help="list scheduled jobs with their last and next runs")
    jobs.set_defaults(handler=_cmd_jobs)

    groups = commands.add_parser("groups", help="report group chats").add_subparsers(dest="groups_command", required=True)
    create_groups = groups.add_parser(
        "create", help="create the app group chats listed in REPORT_TARGETS_PATH (default models/report_targets.toml)",
        description="Create each app group chat of the report groups with appchat/create, using the chat id, "
        "title, owner and members from the file. The chat id is fixed there, so nothing is stored and a rerun "
        "reports the chats that exist (errcode 86215). WeCom lets only a self-built app whose visible range is "
        "the root department create app group chats; a new chat appears in the clients with its first message. "
        "The sender also creates a missing chat when its first report goes out, so this command is needed only "
        "to check the file and create the chats ahead. "
        "Robot groups are skipped: they need only their webhook key in REPORT_ROBOT_KEYS. Exits 1 when a chat "
        "could not be created.",
    )
    create_groups.set_defaults(handler=_cmd_groups_create)

    dev = commands.add_parser("dev", help="run the bot with the local WeCom emulator, or send it a message")
    dev.add_argument("--bot-port", type=int, default=8000, help="port of the bot (default 8000)")
    dev.add_argument("--emulator-port", type=int, default=8001, help="port of the WeCom emulator (default 8001)")
    dev_commands = dev.add_subparsers(dest="dev_command")
    send = dev_commands.add_parser("send", help="send a text as a WeCom member and print the bot's replies")
    send.add_argument("--user", required=True, help="WeCom UserID of the sender, e.g. zhangwei")
    send.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for the replies")
    send.add_argument("text", help="the message text")
    dev.set_defaults(handler=_cmd_dev)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = get_settings()
        quiet = args.command in ("parse", "import") or getattr(args, "dev_command", None) == "send"
        _configure_logging(settings.log_level, quiet=quiet)
        return args.handler(args) or 0
    except SettingsError as error:
        print(f"配置错误:{error}", file=sys.stderr)
        return 2
    except ValidationError as error:
        names = ", ".join(str(item["loc"][0]).upper() for item in error.errors() if item.get("loc"))
        print(f"配置错误:这些设置的值无效:{names}。请检查环境变量或 .env 文件。", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
