"""The command grammar of customer service: binding WeChat customers to contacts, recording
shipments and closing service requests."""

import re
from dataclasses import dataclass
from decimal import Decimal

from bot.understanding.command_base import Malformed
from bot.understanding.numbers import parse_number


@dataclass(frozen=True)
class BindExternalUser:
    """Bind a WeChat customer (`external_userid`) to a contact of a customer."""

    customer_query: str
    contact_name: str
    external_userid: str


@dataclass(frozen=True)
class CreateBindingCode:
    """Issue a one-time code the contact sends in WeChat customer service to bind themselves."""

    customer_query: str
    contact_name: str


@dataclass(frozen=True)
class RecordShipment:
    """A batch delivered against a contract, as a rep or the warehouse reports it."""

    customer_query: str
    contract_number: str
    batch_no: int
    quantity: Decimal
    unit: str
    vehicle_plate: str | None = None
    waybill_no: str | None = None


BIND_USAGE = "用法:绑定客户 客户 联系人 external_userid,例如「绑定客户 恒达 王经理 wmAbCdEf123」"
BINDING_CODE_USAGE = "用法:生成绑定码 客户 联系人,例如「生成绑定码 恒达 王经理」"
SHIPMENT_USAGE = (
    "用法:客户 合同编号 第几批 数量单位 已发车 [车牌] [运单 单号],"
    "例如「恒达 HT-2026-0012 第二批 35吨 已发车 苏E12345」"
)

_BIND = re.compile(r"^绑定客户(?P<sep>[\s:\uff1a]*)(?P<rest>.*)$")
_BIND_ARGS = re.compile(r"^(?P<customer>\S+)\s+(?P<contact>\S+)\s+(?P<external>w[mo][0-9A-Za-z_-]{4,62})$")
_BINDING_CODE = re.compile(r"^生成绑定码(?P<sep>[\s:\uff1a]*)(?P<rest>.*)$")
_BINDING_CODE_ARGS = re.compile(r"^(?P<customer>\S+)\s+(?P<contact>\S+)$")
_SHIPMENT = re.compile(
    r"^(?:发货[\s:\uff1a]+)?(?P<customer>\S+?)\s*(?P<number>HT-\d{4}-\d{4,})\s*"
    r"第(?P<batch>\d{1,3}|[一二两三四五六七八九十]{1,3})批\s*"
    r"(?P<quantity>\d+(?:\.\d+)?)\s*(?P<unit>吨|t|方|立方米?|m3|张|卷|平方米?|平米|㎡|块|包|袋)\s*"
    r"(?:已发车|已发货|已出库|发车了|发货了)"
    r"(?:[\s,\uff0c]+(?:车牌号?[\s:\uff1a]*)?(?P<plate>[\u4e00-\u9fff][A-Za-z][A-Za-z0-9]{5,6}))?"
    r"(?:[\s,\uff0c]+(?:运单号?|物流单号|单号)[\s:\uff1a]*(?P<waybill>[A-Za-z0-9-]{4,40}))?$",
    re.IGNORECASE,
)
_SHIPMENT_HINT = re.compile(r"HT-\d{4}-\d{4,}.*第\S{1,3}批.*(?:已发车|已发货|已出库)", re.IGNORECASE)
_UNIT_NAMES = {"t": "吨", "立方": "方", "立方米": "方", "m3": "方", "平方": "平方米", "平米": "平方米", "㎡": "平方米"}


def _parse_shipment(text: str) -> RecordShipment | Malformed | None:
    match = _SHIPMENT.match(text)
    if match is None:
        # A text with a contract number, a batch and 已发车 that does not parse is a mistyped record.
        return Malformed(SHIPMENT_USAGE) if _SHIPMENT_HINT.search(text) and len(text) <= 80 else None
    batch = parse_number(match["batch"])
    if batch is None or batch < 1:
        return Malformed(SHIPMENT_USAGE)
    unit = match["unit"].lower()
    return RecordShipment(
        customer_query=match["customer"], contract_number=match["number"].upper(), batch_no=int(batch),
        quantity=Decimal(match["quantity"]), unit=_UNIT_NAMES.get(unit, unit),
        vehicle_plate=match["plate"].upper() if match["plate"] else None, waybill_no=match["waybill"],
    )


@dataclass(frozen=True)
class CloseServiceRequest:
    number: str
    note: str | None = None


_CLOSE_REQUEST = re.compile(
    r"^(?:已处理|处理完|关闭|结案)[\s:\uff1a]*(?P<number>FW-\d{4}-\d{4,})(?:[\s:\uff1a,\uff0c]+(?P<note>.+))?$",
    re.IGNORECASE | re.DOTALL,
)

ServiceCommand = BindExternalUser | CreateBindingCode | RecordShipment | CloseServiceRequest


def parse_service_command(text: str) -> ServiceCommand | Malformed | None:
    """Return a binding, shipment or service-request command, or None."""
    if match := _CLOSE_REQUEST.match(text):
        note = match["note"].strip() if match["note"] else None
        return CloseServiceRequest(match["number"].upper(), note)
    if match := _BIND.match(text):
        if not (match["sep"] or not match["rest"]):
            return None
        args = _BIND_ARGS.match(match["rest"].strip())
        return BindExternalUser(args["customer"], args["contact"], args["external"]) if args else Malformed(BIND_USAGE)
    if match := _BINDING_CODE.match(text):
        args = _BINDING_CODE_ARGS.match(match["rest"].strip())
        return CreateBindingCode(args["customer"], args["contact"]) if args else Malformed(BINDING_CODE_USAGE)
    return _parse_shipment(text)
