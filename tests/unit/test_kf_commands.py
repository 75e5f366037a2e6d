"""Rep commands for customer service (binding, binding codes, shipments) and the shipment import."""

import json
import os
import subprocess
import sys
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from bot.understanding.commands import (
    BINDING_CODE_USAGE,
    BIND_USAGE,
    SHIPMENT_USAGE,
    BindExternalUser,
    CreateBindingCode,
    Malformed,
    RecordShipment,
    parse_command,
)
from handlers.order_status import ShipmentRecord, import_shipments, parse_shipment_rows
from models.commerce import Contract, Shipment
from models.crm import Customer
from models.db import Database
from models.migrate import upgrade
from models.org import User
from models.world import import_world
from tests.conftest import DEMO_WORLD

HENGDA = "苏州恒达建材有限公司"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("绑定客户 恒达 王经理 wmAbCd1234", BindExternalUser("恒达", "王经理", "wmAbCd1234")),
        ("绑定客户:恒达 王经理 woXyZ-9876_", BindExternalUser("恒达", "王经理", "woXyZ-9876_")),
        ("绑定客户 恒达 王经理", Malformed(BIND_USAGE)),
        ("绑定客户 恒达 王经理 13800000000", Malformed(BIND_USAGE)),
        ("生成绑定码 恒达 王经理", CreateBindingCode("恒达", "王经理")),
        ("生成绑定码", Malformed(BINDING_CODE_USAGE)),
        (
            "恒达 HT-2026-0012 第二批 35吨 已发车 苏E12345",
            RecordShipment("恒达", "HT-2026-0012", 2, Decimal("35"), "吨", "苏E12345", None),
        ),
        (
            "发货:恒达 ht-2026-0012 第3批 12.5方 已发货,车牌 苏e12345 运单号 SF10001",
            RecordShipment("恒达", "HT-2026-0012", 3, Decimal("12.5"), "方", "苏E12345", "SF10001"),
        ),
        ("恒达 HT-2026-0012 第十批 800平米 已出库", RecordShipment("恒达", "HT-2026-0012", 10, Decimal("800"), "平方米")),
        ("恒达 HT-2026-0012 第二批 已发车 苏E12345", Malformed(SHIPMENT_USAGE)),
    ],
)
def test_parse_service_commands(text, expected):
    assert parse_command(text) == expected


@pytest.mark.parametrize(
    "text",
    ["绑定客户的事还没谈,下周再去恒达", "今天去恒达拜访了王经理,HT-2026-0012 第二批下周发", "恒达说上一批货已发车了"],
)
def test_notes_are_not_service_commands(text):
    assert not isinstance(parse_command(text), BindExternalUser | CreateBindingCode | RecordShipment | Malformed)


def test_parse_shipment_rows_reports_bad_lines():
    rows = [
        {"contract_number": "ht-2026-0012", "batch_no": "1", "quantity": "35", "unit": "吨", "shipped_on": "2026-05-20",
         "vehicle_plate": "苏e12345", "waybill_no": "SF1", "delivered_on": ""},
        {"contract_number": "HT-2026-0012", "batch_no": "0", "quantity": "35", "unit": "吨"},
        {"contract_number": "HT-2026-0012", "batch_no": "2", "quantity": "many", "unit": "吨"},
        {"contract_number": "HT-2026-0012", "batch_no": "3", "quantity": "5", "unit": "吨", "shipped_on": "5月20日"},
    ]

    records, errors = parse_shipment_rows(rows)

    assert records == [
        ShipmentRecord("HT-2026-0012", 1, Decimal("35"), "吨", date(2026, 5, 20), "苏E12345", "SF1", None),
    ]
    assert [error.split(":")[0] for error in errors] == ["line 3", "line 4", "line 5"]


def _signed_contract(db, number: str = "HT-2026-0012") -> int:
    with db.session() as session:
        customer = session.scalars(select(Customer).where(Customer.name == HENGDA)).unique().one()
        owner = session.scalar(select(User.id).where(User.userid == "zhangwei"))
        contract = Contract(number=number, customer_id=customer.id, owner_id=owner, amount=Decimal("1"), status="signed")
        session.add(contract)
        session.flush()
        return contract.id


def test_import_shipments_updates_same_batch(db, world):
    contract_id = _signed_contract(db)
    first = [ShipmentRecord("HT-2026-0012", 1, Decimal("35"), "吨", date(2026, 5, 20), "苏E12345")]
    again = [ShipmentRecord("HT-2026-0012", 1, Decimal("36"), "吨", waybill_no="SF1"), ShipmentRecord("HT-2026-0099", 1, Decimal("1"), "吨")]

    with db.session() as session:
        assert import_shipments(session, first) == (1, 0, [])
    with db.session() as session:
        assert import_shipments(session, again) == (0, 1, ["contract HT-2026-0099 not found"])

    with db.session() as session:
        [shipment] = session.scalars(select(Shipment).where(Shipment.contract_id == contract_id)).all()
        assert shipment.quantity == Decimal("36")
        assert shipment.vehicle_plate == "苏E12345"
        assert shipment.waybill_no == "SF1"


def _run_import(tmp_path, url: str, csv_text: str) -> subprocess.CompletedProcess:
    path = tmp_path / "shipments.csv"
    path.write_text(csv_text, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")} | {"DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "import", "shipments", str(path)],
        env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )


def test_cli_import_shipments_all_or_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade(url)
    db = Database(url)
    with db.session() as session:
        import_world(session, json.loads(DEMO_WORLD.read_text(encoding="utf-8")))
    _signed_contract(db)
    header = "contract_number,batch_no,quantity,unit,shipped_on,vehicle_plate,waybill_no,delivered_on\n"

    rejected = _run_import(tmp_path, url, header + "HT-2026-0012,1,35,吨,2026-05-20,苏E12345,,\nHT-2026-0404,1,5,吨,,,,\n")
    accepted = _run_import(tmp_path, url, header + "HT-2026-0012,1,35,吨,2026-05-20,苏E12345,,\nHT-2026-0012,2,30,吨,,,,\n")

    assert rejected.returncode == 2
    assert "contract HT-2026-0404 not found" in rejected.stderr
    assert accepted.returncode == 0, accepted.stderr
    assert accepted.stdout.strip() == "已导入发货记录:新增 2 批,更新 0 批"
    with db.session() as session:
        assert [s.batch_no for s in session.scalars(select(Shipment).order_by(Shipment.batch_no))] == [1, 2]
    db.dispose()
