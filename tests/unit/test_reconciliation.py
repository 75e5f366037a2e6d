"""The monthly reconciliation workbook, written to disk and read back with openpyxl."""

from datetime import date, datetime

import pytest
from openpyxl import load_workbook

from models.org import User
from reports.reconciliation import (
    CONTRACT_COLUMNS,
    MONEY_FORMAT,
    PAYMENT_COLUMNS,
    SHIPMENT_COLUMNS,
    SUMMARY_COLUMNS,
    customer_balances,
    write_reconciliation,
)
from reports.scope import COMPANY, Period, scope_for
from tests.unit import test_reports
from tests.unit.test_reports import MARCH, WAN

march = test_reports.march  # the hand-built March 2026, shared with the figure tests


def _write(db, tmp_path, scope=COMPANY, month=MARCH):
    with db.session() as session:
        path = write_reconciliation(session, scope, month, tmp_path / "对账.xlsx")
    return load_workbook(path)


def _rows(sheet) -> list[tuple]:
    return [tuple(row) for row in sheet.iter_rows(min_row=2, values_only=True)]


def test_sheets_and_headers(db, march, tmp_path):
    workbook = _write(db, tmp_path)

    assert workbook.sheetnames == ["汇总", "合同明细", "发货明细", "回款明细"]
    for name, columns in [("汇总", SUMMARY_COLUMNS), ("合同明细", CONTRACT_COLUMNS), ("发货明细", SHIPMENT_COLUMNS),
                          ("回款明细", PAYMENT_COLUMNS)]:
        sheet = workbook[name]
        assert [cell.value for cell in sheet[1]] == [column.header for column in columns]
        assert sheet.freeze_panes == "A2"
        assert sheet.column_dimensions["A"].width == columns[0].width


def test_summary_rows_per_customer(db, march, tmp_path):
    sheet = _write(db, tmp_path)["汇总"]
    rows = _rows(sheet)

    # Ordered by what is still owed, largest first; amounts in 元.
    assert rows[:-1] == [
        ("南京金陵路桥工程有限公司", "南京", "李娜", 1, 2_000_000, 2_000_000, 1, 0, 1_000_000, 1_000_000, 1_000_000),
        ("杭州钱塘混凝土有限公司", "杭州", "王强", 2, 900_000, 800_000, 0, 0, 100_000, 180_000, 720_000),
        ("苏州恒达建材有限公司", "苏州", "张伟", 1, 1_000_000, 1_000_000, 1, 600_000, 300_000, 300_000, 700_000),
        ("合肥庐州建设有限公司", "合肥", "陈静", 0, 0, 0, 0, 0, 50_000, 50_000, -50_000),
    ]


def test_summary_total_row(db, march, tmp_path):
    sheet = _write(db, tmp_path)["汇总"]
    total = _rows(sheet)[-1]

    assert total == ("合计", None, None, 4, 3_900_000, 3_800_000, 2, 600_000, 1_450_000, 1_530_000, 2_370_000)
    assert sheet.cell(sheet.max_row, 5).number_format == MONEY_FORMAT
    assert sheet.cell(2, 5).number_format == MONEY_FORMAT
    assert sheet.cell(sheet.max_row, 1).font.bold


def test_contract_details(db, march, tmp_path):
    rows = _rows(_write(db, tmp_path)["合同明细"])

    by_number = {row[0]: row for row in rows}
    assert sorted(by_number) == ["K1", "K2", "K3", "K5"]  # K4 is cancelled, K6 unsigned
    assert by_number["K3"][1:] == ("杭州钱塘混凝土有限公司", "王强", datetime(2026, 3, 18), "signed", 800_000, 80_000, 720_000)
    assert by_number["K5"][-2:] == (100_000, 0)


def test_shipment_and_payment_details(db, march, tmp_path):
    workbook = _write(db, tmp_path)

    shipments = _rows(workbook["发货明细"])
    assert sorted((row[1], row[2], row[3]) for row in shipments) == [("K1", 1, 120), ("K2", 1, 500)]
    payments = _rows(workbook["回款明细"])
    assert len(payments) == 5
    assert sorted((row[1] or "", row[4], row[5]) for row in payments) == [
        ("", 50_000, "已到账"),
        ("K1", 300_000, "已到账"),
        ("K1", 300_000, "待回款"),
        ("K2", 1_000_000, "已到账"),
        ("K5", 100_000, "已到账"),
    ]


def test_scoped_to_director(db, march, tmp_path):
    with db.session() as session:
        director = session.query(User).filter_by(userid="zhaomin").one()
        scope = scope_for(director)
    rows = _rows(_write(db, tmp_path, scope=scope)["汇总"])

    assert sorted(row[0] for row in rows[:-1]) == ["南京金陵路桥工程有限公司", "苏州恒达建材有限公司"]
    assert rows[-1][10] == 1_700_000


def test_balances_in_sql(db, march):
    with db.session() as session:
        balances = {b.customer: b for b in customer_balances(session, COMPANY, Period.month(2026, 2))}

    # By the end of February only K5 was signed and only the January payment had arrived.
    assert balances["杭州钱塘混凝土有限公司"].contract_total == 10 * WAN
    assert balances["杭州钱塘混凝土有限公司"].received_total == 8 * WAN
    assert balances["杭州钱塘混凝土有限公司"].planned_in_month == 10 * WAN
    assert set(balances) == {"杭州钱塘混凝土有限公司"}


def test_empty_month(db, march, tmp_path):
    rows = _rows(_write(db, tmp_path, month=Period.month(2024, 1))["汇总"])

    assert rows == [("合计", None, None, 0, 0, 0, 0, 0, 0, 0, 0)]


def test_rejects_other_periods(db, tmp_path):
    week = Period(date(2026, 3, 2), date(2026, 3, 9))
    with db.session() as session, pytest.raises(ValueError, match="one calendar month"):
        write_reconciliation(session, COMPANY, week, tmp_path / "week.xlsx")
    assert not (tmp_path / "week.xlsx").exists()
