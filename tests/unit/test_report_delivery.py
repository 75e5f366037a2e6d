"""Report delivery without WeCom: the report groups file, weekly charts and their dedup keys,
the finance workbook, group rate limits in the sender, and the first-response KPI."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.outbox import enqueue_appchat_reply, enqueue_reply, enqueue_robot_reply
from bot.runtime import Runtime
from bot.sender import GROUP_LIMITS, _free_at
from handlers.outcome import Button, Card, File, Image, Text
from handlers.report_delivery import (
    DEFAULT_TARGETS_PATH,
    ReportGroup,
    ReportTargetsError,
    finance_reconciliation,
    iso_week,
    load_report_groups,
    parse_report_groups,
    weekly_charts,
)
from models.base import utcnow
from models.crm import Contact, Customer
from models.messages import OutboundMessage, OutboxStatus
from models.org import User
from models.service import ExternalBinding, KfMessageLog
from reports.kpis import first_response_minutes
from reports.scope import COMPANY, Period, scope_for
from scheduler.report_jobs import weekly_reports
from tests.conftest import make_settings

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEEK = Period.week_of(datetime(2026, 11, 23).date())
NOVEMBER = Period.month(2026, 11)
APPCHAT = """
[[group]]
name = "sales-director"
viewer = "lizong"
channel = "appchat"
chatid = "zhongshusales"
title = "销售中心周报"
owner = "lizong"
members = ["lizong", "zhaomin"]
"""
ROBOT = """
[[group]]
name = "region-sunan"
viewer = "zhaomin"
channel = "robot"
"""


def _queue(session, messages) -> None:
    for message in messages:
        group = message.group
        if group.channel == "appchat":
            enqueue_appchat_reply(session, group.chatid, message.reply, dedup_key=message.dedup_key)
        else:
            enqueue_robot_reply(session, group.name, group.webhook_key, message.reply, dedup_key=message.dedup_key)


# -- the report groups file ------------------------------------------------------------------


def test_default_targets_file_parses():
    groups = load_report_groups(None, {})

    assert DEFAULT_TARGETS_PATH.name == "report_targets.toml"
    assert [group.viewer for group in groups] == ["lizong", "zhaomin", "sunli"]
    assert all(group.channel == "appchat" for group in groups)


def test_robot_group_takes_key_from_settings():
    [appchat, robot] = parse_report_groups(APPCHAT + ROBOT, {"region-sunan": "robot-key-1"})

    assert appchat == ReportGroup(
        name="sales-director", viewer="lizong", channel="appchat", chatid="zhongshusales", title="销售中心周报",
        owner="lizong", members=("lizong", "zhaomin"),
    )
    assert robot.webhook_key == "robot-key-1"
    assert "robot-key-1" not in repr(robot)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (ROBOT, "REPORT_ROBOT_KEYS has no webhook key"),
        (APPCHAT.replace('chatid = "zhongshusales"', 'chatid = "sales-01"'), "chatid 'sales-01'"),
        (APPCHAT.replace('owner = "lizong"', 'owner = "sunli"'), "owner 'sunli' must be one of the members"),
        (APPCHAT.replace('["lizong", "zhaomin"]', '["lizong"]'), "needs 2 to 2000 members, got 1"),
        (APPCHAT.replace('["lizong", "zhaomin"]', '["lizong", "lizong"]'), "lists a UserID twice"),
        (APPCHAT.replace('channel = "appchat"', 'channel = "email"'), "channel must be"),
        (APPCHAT.replace('name = "sales-director"', 'name = "Sales Director"'), "name 'Sales Director'"),
        (APPCHAT.replace('viewer = "lizong"\n', ""), "viewer is missing"),
        (APPCHAT + 'webhook = "x"\n', "unknown key 'webhook'"),
        (APPCHAT + APPCHAT.replace('name = "sales-director"', 'name = "copy"'), "the same chatid"),
        (APPCHAT + APPCHAT.replace('chatid = "zhongshusales"', 'chatid = "other"'), "the same name"),
        ("[group]\nname = 'x'\n", "array of tables"),
        ("[robots]\n", "unknown key 'robots'"),
        ("[[group]\n", "invalid TOML"),
    ],
)
def test_targets_file_errors(text, message):
    with pytest.raises(ReportTargetsError, match=message.replace("(", r"\(")):
        parse_report_groups(text, {}, "targets.toml")


def test_two_robots_need_two_keys():
    text = ROBOT + ROBOT.replace("region-sunan", "region-zhejiang")

    with pytest.raises(ReportTargetsError, match="the same webhook key"):
        parse_report_groups(text, {"region-sunan": "k", "region-zhejiang": "k"})


def test_missing_targets_file_names_setting(tmp_path):
    with pytest.raises(ReportTargetsError, match="REPORT_TARGETS_PATH"):
        load_report_groups(str(tmp_path / "missing.toml"), {})


# -- weekly charts ---------------------------------------------------------------------------


def test_iso_week_of_period():
    assert iso_week(WEEK) == "2026-W48"
    assert iso_week(Period.week_of(datetime(2027, 1, 1).date())) == "2026-W53"


def test_weekly_charts_are_pngs_once(db, world, tmp_path):
    [group] = parse_report_groups(APPCHAT, {})

    with db.session() as session:
        messages = weekly_charts(session, group, WEEK, tmp_path)
        _queue(session, messages)
    with db.session() as session:
        again = weekly_charts(session, group, WEEK, tmp_path)

    assert [m.dedup_key for m in messages] == [
        "weekly-report:sales-director:2026-W48:funnel",
        "weekly-report:sales-director:2026-W48:collection",
        "weekly-report:sales-director:2026-W48:leaderboard",
    ]
    assert all(isinstance(m.reply, Image) and m.reply.caption is None for m in messages)
    for message in messages:
        with open(message.reply.path, "rb") as chart:
            assert chart.read(8) == b"\x89PNG\r\n\x1a\n"
    assert again == []


def test_weekly_charts_render_only_missing(db, world, tmp_path):
    [group] = parse_report_groups(APPCHAT, {})
    with db.session() as session:
        enqueue_appchat_reply(session, "zhongshusales", Text("x"), dedup_key="weekly-report:sales-director:2026-W48:funnel")

    with db.session() as session:
        messages = weekly_charts(session, group, WEEK, tmp_path)

    assert [m.dedup_key.rsplit(":", 1)[1] for m in messages] == ["collection", "leaderboard"]


def test_unknown_viewer_skips_only_its_group(db, world, redis_prefix, tmp_path):
    targets = tmp_path / "targets.toml"
    targets.write_text(APPCHAT.replace('"lizong"', '"nobody"', 1) + ROBOT, encoding="utf-8")
    settings = make_settings(
        db.url, redis_prefix, report_targets_path=str(targets), report_robot_keys={"region-sunan": "k"}
    )
    runtime = Runtime.from_settings(settings)

    with pytest.raises(ReportTargetsError, match="viewer 'nobody' is not an active user"):
        weekly_reports(runtime, datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI), folder=tmp_path)

    with db.session() as session:
        rows = session.scalars(select(OutboundMessage)).all()
    assert {row.recipient for row in rows} == {"robot:region-sunan"}
    assert len(rows) == 3
    assert all(row.payload["key"] == "k" for row in rows)


# -- outbox and sender -----------------------------------------------------------------------


def test_group_rows_take_no_cards(db):
    card = Card("审批", "报价单", buttons=(Button("ok", "同意"),))

    with db.session() as session, pytest.raises(TypeError):
        enqueue_appchat_reply(session, "zhongshusales", card)


def test_group_rows_store_target(db):
    with db.session() as session:
        [chat_row] = enqueue_appchat_reply(session, "zhongshusales", File("/tmp/a.xlsx", "a.xlsx"))
        [robot_row] = enqueue_robot_reply(session, "region-sunan", "k", Text("本周排行"))

    assert (chat_row.kind, chat_row.recipient) == ("appchat", "appchat:zhongshusales")
    assert chat_row.payload == {"chatid": "zhongshusales", "msgtype": "file", "path": "/tmp/a.xlsx", "name": "a.xlsx"}
    assert (robot_row.kind, robot_row.recipient) == ("robot", "robot:region-sunan")
    assert robot_row.payload == {"key": "k", "msgtype": "text", "text": {"content": "本周排行"}}


def _sent_rows(db, recipient: str, kind: str, count: int, at: datetime) -> None:
    with db.session() as session:
        for _ in range(count):
            session.add(OutboundMessage(recipient=recipient, kind=kind, payload={}, status=OutboxStatus.SENT, sent_at=at))


@pytest.mark.parametrize(("kind", "limit"), [("appchat", 200), ("robot", 20)])
def test_group_minute_limits(db, kind, limit):
    now = utcnow()
    recipient = f"{kind}:target"
    _sent_rows(db, recipient, kind, limit - 1, now - timedelta(seconds=30))

    below = _free_at(db, recipient, now, GROUP_LIMITS[kind])
    _sent_rows(db, recipient, kind, 1, now - timedelta(seconds=10))
    at_limit = _free_at(db, recipient, now, GROUP_LIMITS[kind])

    assert below is None
    assert at_limit == now + timedelta(seconds=30)


# -- finance workbook ------------------------------------------------------------------------


def test_finance_workbook_once_per_month(db, world, tmp_path):
    with db.session() as session:
        notifications = finance_reconciliation(session, NOVEMBER, tmp_path)
        for notification in notifications:
            enqueue_reply(session, notification.recipient, notification.reply, dedup_key=notification.dedup_key)
    with db.session() as session:
        again = finance_reconciliation(session, NOVEMBER, tmp_path)

    [file_notice, caption] = notifications
    assert file_notice.recipient == caption.recipient == "zhoujun"
    assert file_notice.reply.name == "2026年11月对账报表-全公司.xlsx"
    assert file_notice.reply.path.endswith("/2026年11月对账报表-全公司.xlsx")
    assert isinstance(caption.reply, Text)
    assert again == []
    assert len(list(tmp_path.glob("reconciliation-*/*.xlsx"))) == 1


def test_finance_workbook_needs_finance_head(db, world, tmp_path):
    with db.session() as session:
        session.scalars(select(User).where(User.userid == "zhoujun")).unique().one().active = False

    with db.session() as session, pytest.raises(ReportTargetsError, match="finance_head"):
        finance_reconciliation(session, NOVEMBER, tmp_path)


# -- first response KPI ----------------------------------------------------------------------


MARCH = Period.month(2026, 3)


def _bind(session, external_userid: str, customer_name: str) -> None:
    customer = session.scalars(select(Customer).where(Customer.name == customer_name)).unique().one()
    contact = Contact(customer_id=customer.id, name="采购经理")
    session.add(contact)
    session.flush()
    session.add(ExternalBinding(external_userid=external_userid, customer_id=customer.id, contact_id=contact.id, method="rep"))


def _log(session, external_userid: str, sent_at: datetime, minutes: float | None) -> None:
    number = session.scalar(select(KfMessageLog.id).order_by(KfMessageLog.id.desc()).limit(1)) or 0
    session.add(KfMessageLog(
        msgid=f"msg-{number + 1}", open_kfid="wkservice", external_userid=external_userid, msgtype="text",
        sent_at=sent_at, first_response_at=None if minutes is None else sent_at + timedelta(minutes=minutes),
    ))
    session.flush()


@pytest.fixture
def kf_messages(db, world):
    """Answered messages: 4 and 10 minutes (zhangwei's customer), 30 (wangqiang's), 60 (unbound)."""
    start = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    with db.session() as session:
        _bind(session, "wm-hengda", "苏州恒达建材有限公司")
        _bind(session, "wm-zhongtian", "杭州中天置业有限公司")
        _log(session, "wm-hengda", start, 4)
        _log(session, "wm-hengda", start + timedelta(days=3), 10)
        _log(session, "wm-zhongtian", start + timedelta(days=4), 30)
        _log(session, "wm-stranger", start + timedelta(days=5), 60)
        _log(session, "wm-hengda", start + timedelta(days=6), None)  # never answered
        _log(session, "wm-hengda", datetime(2026, 3, 31, 16, 30, tzinfo=UTC), 500)  # 1 April in Shanghai
        _log(session, "wm-hengda", datetime(2026, 2, 28, 15, 0, tzinfo=UTC), 2)  # still February in Shanghai


def _scope(db, userid: str):
    with db.session() as session:
        return scope_for(session.scalars(select(User).where(User.userid == userid)).unique().one())


def test_first_response_company_counts_all(db, kf_messages):
    with db.session() as session:
        assert first_response_minutes(session, COMPANY, MARCH) == pytest.approx(26.0)
        assert first_response_minutes(session, COMPANY, Period.month(2026, 2)) == pytest.approx(2.0)


@pytest.mark.parametrize(
    ("userid", "minutes"),
    [("zhangwei", 7.0), ("zhaomin", 7.0), ("wangqiang", 30.0), ("sunli", 30.0), ("lina", None), ("lizong", 26.0)],
)
def test_first_response_by_scope(db, kf_messages, userid, minutes):
    scope = _scope(db, userid)

    with db.session() as session:
        value = first_response_minutes(session, scope, MARCH)

    assert value == (None if minutes is None else pytest.approx(minutes))
