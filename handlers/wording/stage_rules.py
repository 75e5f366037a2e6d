"""Notifications that the [[notify]] rules of the pipeline rules file send."""

from datetime import date

from handlers.wording.format import day, fit_reply, money, quantity


def _requirements_lines(requirements, today: date) -> list[str]:
    place = f"({requirements.region})" if requirements.region else ""
    lines = [
        f"客户:{requirements.customer}{place}",
        f"商机:{requirements.title}(负责人 {requirements.owner},当前阶段 {requirements.stage.label})",
    ]
    if requirements.lines:
        products = ";".join(
            f"{name} {quantity(amount, unit)}".rstrip() for name, amount, unit in requirements.lines
        )
        lines.append(f"产品:{products}")
    else:
        lines.append("产品:还没有记录")
    if requirements.amount is not None:
        lines.append(f"金额:{money(requirements.amount)}")
    if requirements.competitors:
        lines.append(f"竞争对手:{'、'.join(requirements.competitors)}")
    if requirements.latest_note:
        lines.append(
            f"最近记录({day(requirements.latest_note_on, today)} {requirements.latest_note_author}):"
            f"{requirements.latest_note}"
        )
    return lines


def rule_notice(sections: list, today: date) -> str:
    """Show each fired rule's title with the opportunity's requirements, in one message."""
    blocks = []
    for (title, _opportunity_id), requirements in sections:
        blocks.append("\n".join([f"🔔 {title}", *_requirements_lines(requirements, today)]))
    return fit_reply("\n\n".join(blocks))
