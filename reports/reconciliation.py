"""The monthly reconciliation workbook (对账报表): contracts, shipments, payments and the amount
still owed, per customer, for finance and the sales directors.

Sheets: 汇总 (one row per customer and a 合计 row), 合同明细, 发货明细 and 回款明细.
Per-customer figures are aggregated in SQL; the detail sheets list rows as stored.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from models.commerce import Contract, Payment, Shipment
from models.crm import Customer
from models.org import User
from reports.figures import CANCELLED_CONTRACT_STATUSES
from reports.scope import Period, Scope
from reports.sql import in_days, zero_if_null

MONEY_FORMAT = '#,##0.00;[Red]-#,##0.00'
QUANTITY_FORMAT = '#,##0.##'
DATE_FORMAT = 'yyyy-mm-dd'
HEADER_FILL = PatternFill("solid", fgColor="1F5FAD")
HEADER_FONT = Font(bold=True, color="FFFFFF")
TOTAL_FONT = Font(bold=True)
TOTAL_BORDER = Border(top=Side(style="thin"))


@dataclass(frozen=True)
class Column:
    header: str
    width: float
    number_format: str | None = None


SUMMARY_COLUMNS = (
    Column("客户名称", 30),
    Column("区域", 10),
    Column("负责人", 10),
    Column("有效合同数", 11, "0"),
    Column("合同总额(元)", 16, MONEY_FORMAT),
    Column("本月签约(元)", 16, MONEY_FORMAT),
    Column("本月发货批次", 13, "0"),
    Column("本月计划回款(元)", 18, MONEY_FORMAT),
    Column("本月实际回款(元)", 18, MONEY_FORMAT),
    Column("累计回款(元)", 16, MONEY_FORMAT),
    Column("未回款余额(元)", 16, MONEY_FORMAT),
)
CONTRACT_COLUMNS = (
    Column("合同编号", 16),
    Column("客户名称", 30),
    Column("负责人", 10),
    Column("签订日期", 12, DATE_FORMAT),
    Column("状态", 10),
    Column("合同金额(元)", 16, MONEY_FORMAT),
    Column("累计回款(元)", 16, MONEY_FORMAT),
    Column("未回款余额(元)", 16, MONEY_FORMAT),
)
SHIPMENT_COLUMNS = (
    Column("客户名称", 30),
    Column("合同编号", 16),
    Column("批次", 6, "0"),
    Column("数量", 10, QUANTITY_FORMAT),
    Column("单位", 6),
    Column("发货日期", 12, DATE_FORMAT),
    Column("签收日期", 12, DATE_FORMAT),
    Column("车牌号", 12),
    Column("运单号", 16),
)
PAYMENT_COLUMNS = (
    Column("客户名称", 30),
    Column("合同编号", 16),
    Column("计划日期", 12, DATE_FORMAT),
    Column("到账日期", 12, DATE_FORMAT),
    Column("金额(元)", 16, MONEY_FORMAT),
    Column("状态", 8),
)

# Columns of 汇总 whose 合计 is the column's sum.
SUMMED_SUMMARY_COLUMNS = range(4, len(SUMMARY_COLUMNS) + 1)


@dataclass(frozen=True)
class CustomerBalance:
    """One customer's figures for the month; cumulative ones run up to the month's last day."""

    customer: str
    region: str | None
    owner: str | None
    contract_count: int
    contract_total: Decimal  # contracts signed by the month's end, not cancelled
    signed_in_month: Decimal
    shipments_in_month: int
    planned_in_month: Decimal
    received_in_month: Decimal
    received_total: Decimal  # every payment received by the month's end, with or without contract
    outstanding: Decimal  # contract_total - received_total; negative means paid in advance


def _valid_contracts(by_end: date):
    return and_(
        Contract.signed_on.is_not(None), Contract.signed_on < by_end,
        Contract.status.not_in(CANCELLED_CONTRACT_STATUSES),
    )


def customer_balances(session: Session, scope: Scope, month: Period) -> list[CustomerBalance]:
    """Aggregate contracts, shipments and payments per customer of the scope for one month.

    A customer is listed when it has a valid contract by the month's end or any payment up to
    then. The scope is the customer's current owner.
    """
    contracts = (
        select(
            Contract.customer_id,
            func.count().label("count"),
            func.sum(Contract.amount).label("total"),
            func.sum(case((in_days(Contract.signed_on, month), Contract.amount), else_=0)).label("in_month"),
        )
        .where(_valid_contracts(month.end))
        .group_by(Contract.customer_id)
        .subquery("contract_totals")
    )
    shipments = (
        select(Contract.customer_id, func.count().label("count"))
        .select_from(Shipment)
        .join(Contract, Contract.id == Shipment.contract_id)
        .where(in_days(Shipment.shipped_on, month))
        .group_by(Contract.customer_id)
        .subquery("shipment_counts")
    )
    received_by_end = and_(Payment.received_on.is_not(None), Payment.received_on < month.end)
    payments = (
        select(
            Payment.customer_id,
            func.sum(case((in_days(Payment.planned_on, month), Payment.amount), else_=0)).label("planned"),
            func.sum(case((in_days(Payment.received_on, month), Payment.amount), else_=0)).label("received"),
            func.sum(case((received_by_end, Payment.amount), else_=0)).label("received_total"),
        )
        .where(or_(received_by_end, in_days(Payment.planned_on, month)))
        .group_by(Payment.customer_id)
        .subquery("payment_totals")
    )

    contract_total = zero_if_null(contracts.c.total)
    received_total = zero_if_null(payments.c.received_total)
    query = (
        select(
            Customer.name, Customer.region, User.name.label("owner"),
            zero_if_null(contracts.c.count).label("contract_count"),
            contract_total.label("contract_total"),
            zero_if_null(contracts.c.in_month).label("signed_in_month"),
            zero_if_null(shipments.c.count).label("shipments_in_month"),
            zero_if_null(payments.c.planned).label("planned_in_month"),
            zero_if_null(payments.c.received).label("received_in_month"),
            received_total.label("received_total"),
            (contract_total - received_total).label("outstanding"),
        )
        .outerjoin(User, User.id == Customer.owner_id)
        .outerjoin(contracts, contracts.c.customer_id == Customer.id)
        .outerjoin(shipments, shipments.c.customer_id == Customer.id)
        .outerjoin(payments, payments.c.customer_id == Customer.id)
        .where(or_(contracts.c.customer_id.is_not(None), payments.c.customer_id.is_not(None)))
        .where(scope.covers(Customer.owner_id))
        .order_by((contract_total - received_total).desc(), Customer.name)
    )
    return [
        CustomerBalance(
            customer=row.name, region=row.region, owner=row.owner, contract_count=int(row.contract_count),
            contract_total=Decimal(row.contract_total), signed_in_month=Decimal(row.signed_in_month),
            shipments_in_month=int(row.shipments_in_month), planned_in_month=Decimal(row.planned_in_month),
            received_in_month=Decimal(row.received_in_month), received_total=Decimal(row.received_total),
            outstanding=Decimal(row.outstanding),
        )
        for row in session.execute(query)
    ]


# -- detail rows -----------------------------------------------------------------------------


def _contract_rows(session: Session, scope: Scope, month: Period) -> list[tuple]:
    received = (
        select(Payment.contract_id, func.sum(Payment.amount).label("total"))
        .where(Payment.received_on < month.end, Payment.contract_id.is_not(None))
        .group_by(Payment.contract_id)
        .subquery("received")
    )
    received_total = zero_if_null(received.c.total)
    query = (
        select(
            Contract.number, Customer.name, User.name, Contract.signed_on, Contract.status, Contract.amount,
            received_total, Contract.amount - received_total,
        )
        .join(Customer, Customer.id == Contract.customer_id)
        .join(User, User.id == Contract.owner_id)
        .outerjoin(received, received.c.contract_id == Contract.id)
        .where(_valid_contracts(month.end), scope.covers(Customer.owner_id))
        .order_by(Customer.name, Contract.signed_on, Contract.number)
    )
    return [tuple(row) for row in session.execute(query)]


def _shipment_rows(session: Session, scope: Scope, month: Period) -> list[tuple]:
    query = (
        select(
            Customer.name, Contract.number, Shipment.batch_no, Shipment.quantity, Shipment.unit,
            Shipment.shipped_on, Shipment.delivered_on, Shipment.vehicle_plate, Shipment.waybill_no,
        )
        .select_from(Shipment)
        .join(Contract, Contract.id == Shipment.contract_id)
        .join(Customer, Customer.id == Contract.customer_id)
        .where(in_days(Shipment.shipped_on, month), scope.covers(Customer.owner_id))
        .order_by(Customer.name, Shipment.shipped_on, Contract.number, Shipment.batch_no)
    )
    return [tuple(row) for row in session.execute(query)]


def _payment_rows(session: Session, scope: Scope, month: Period) -> list[tuple]:
    status = case((Payment.received_on.is_not(None), "已到账"), else_="待回款")
    query = (
        select(Customer.name, Contract.number, Payment.planned_on, Payment.received_on, Payment.amount, status)
        .join(Customer, Customer.id == Payment.customer_id)
        .outerjoin(Contract, Contract.id == Payment.contract_id)
        .where(or_(in_days(Payment.received_on, month), in_days(Payment.planned_on, month)))
        .where(scope.covers(Customer.owner_id))
        .order_by(Customer.name, func.coalesce(Payment.received_on, Payment.planned_on), Payment.id)
    )
    return [tuple(row) for row in session.execute(query)]


# -- workbook --------------------------------------------------------------------------------


def _write_table(sheet: Worksheet, columns: tuple[Column, ...], rows: list[tuple]) -> None:
    """Write a header row and data rows with each column's width and number format."""
    sheet.append([column.header for column in columns])
    for cell in sheet[1]:
        cell.fill = HEADER_FILL
        cell.font = HEADER_FONT
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for row in rows:
        sheet.append([float(value) if isinstance(value, Decimal) else value for value in row])
    for index, column in enumerate(columns, 1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
        if column.number_format:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = column.number_format
    sheet.freeze_panes = "A2"
    sheet.row_dimensions[1].height = 30
    if rows:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(rows) + 1}"


def _write_summary(sheet: Worksheet, balances: list[CustomerBalance]) -> None:
    rows = [
        (b.customer, b.region, b.owner, b.contract_count, b.contract_total, b.signed_in_month, b.shipments_in_month,
         b.planned_in_month, b.received_in_month, b.received_total, b.outstanding)
        for b in balances
    ]
    _write_table(sheet, SUMMARY_COLUMNS, rows)

    # The 合计 row holds values, not SUM formulas: openpyxl stores no computed result, and phone
    # previews that do not recalculate would show formulas as empty cells.
    total_row = len(rows) + 2
    sheet.cell(total_row, 1, "合计").font = TOTAL_FONT
    for index in SUMMED_SUMMARY_COLUMNS:
        total = sum((row[index - 1] for row in rows), start=Decimal(0))
        cell = sheet.cell(total_row, index, float(total))
        cell.number_format = SUMMARY_COLUMNS[index - 1].number_format
        cell.font = TOTAL_FONT
    for index in range(1, len(SUMMARY_COLUMNS) + 1):
        sheet.cell(total_row, index).border = TOTAL_BORDER


def build_reconciliation(session: Session, scope: Scope, month: Period) -> Workbook:
    """Build the reconciliation workbook of one calendar month for the scope's customers."""
    if month.whole_months != 1:
        raise ValueError(f"reconciliation covers one calendar month; got {month.start}..{month.end}")
    workbook = Workbook()
    summary = workbook.active
    summary.title = "汇总"
    _write_summary(summary, customer_balances(session, scope, month))
    _write_table(workbook.create_sheet("合同明细"), CONTRACT_COLUMNS, _contract_rows(session, scope, month))
    _write_table(workbook.create_sheet("发货明细"), SHIPMENT_COLUMNS, _shipment_rows(session, scope, month))
    _write_table(workbook.create_sheet("回款明细"), PAYMENT_COLUMNS, _payment_rows(session, scope, month))
    workbook.properties.title = f"{month.start.year}年{month.start.month}月对账报表 · {scope.label}"
    return workbook


def write_reconciliation(session: Session, scope: Scope, month: Period, path: Path) -> Path:
    """Write the month's reconciliation workbook to `path` (.xlsx)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    build_reconciliation(session, scope, month).save(path)
    return path
