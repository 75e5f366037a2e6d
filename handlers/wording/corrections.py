"""Replies about corrections and undo."""

from datetime import date

from handlers.wording.format import day, money

NOTHING_TO_UNDO = "没有可以撤销的记录。"
NO_NOTE = "没有找到你最近的拜访记录,无法修改。"
NO_OPPORTUNITY = "上一条记录没有关联商机,无法修改金额或阶段。"
NO_PAYMENT = "上一条记录没有回款金额,无法修改。"
UNKNOWN_FIELD = "这个字段不能修改。可改:金额、客户、跟进、拜访日期、阶段、回款。"

UNDONE_LABELS = {
    "note": "上一条拜访记录(含它创建的联系人、商机和待办)",
    "correction": "上一次修改",
    "create_customer": "上一次新建的客户",
    "move_stage": "上一次阶段变更",
}

FIELD_LABELS = {
    "amount": "金额",
    "due_date": "跟进日期",
    "visit_date": "拜访日期",
    "stage": "阶段",
    "payment_amount": "回款金额",
}


def default_task_title(activity) -> str:
    return f"跟进{activity.customer.name}" if activity.customer else "跟进"


def undone(label: str) -> str:
    return f"↩️ 已撤销{UNDONE_LABELS.get(label, '上一条记录')}。"


def undo_blocked(label: str) -> str:
    record = UNDONE_LABELS.get(label, "上一条记录").split("(")[0]
    return (
        f"没有撤销:{record}已经被后来的报价、合同等记录用到,撤销会让那些记录对不上。这次没有做任何改动。\n"
        "请用「改 金额 90万」「改 客户 名称」等方式更正。"
    )


def corrected(field: str, value, today: date) -> str:
    if field in ("amount", "payment_amount"):
        shown = money(value)
    elif field in ("due_date", "visit_date"):
        shown = day(value, today)
    elif field == "stage":
        shown = value.label
    else:
        shown = str(value)
    return f"✅ 已把上一条记录的{FIELD_LABELS[field]}改为 {shown}。回复「撤销」可恢复。"
