"""Replies and notifications about the public pool (公海)."""

from datetime import date

from handlers.wording.format import day, fit_reply, local_day

RELEASE_LISTED = 20  # customers named in an owner's release notice; 2,048 bytes hold about 30
TEAM_LISTED = 5  # customers named per former owner in a director's release notice

NOT_FOUND = "没有找到「{query}」。发「公海」查看可以领取的客户。"
NOT_IN_POOL = "公海里没有「{query}」。发「公海」查看可以领取的客户。"
ALREADY_YOURS = "「{name}」已经是你的客户了。"
ALREADY_IN_POOL = "「{name}」已经在公海里了。"
CLAIM_REPS_ONLY = "只有销售可以领取公海客户。总监请用「分配 客户 给 姓名」把客户分给团队成员。"
DIRECTORS_ONLY = "只有区域总监和销售总监可以{action}客户。你可以发「领取 客户名」领取公海客户。"
CHANGED_MEANWHILE = "「{name}」的负责人刚刚有变化,这次没有改动。请发「查客户 {name}」看看现在的负责人。"
COLLEAGUE_NOT_FOUND = "没有找到名叫「{name}」的同事。请写系统里的姓名,例如「分配 恒达 给 张伟」。"
COLLEAGUE_AMBIGUOUS = "有多位同事叫「{name}」,请改用企业微信账号,例如「分配 恒达 给 {example}」。"
CANNOT_HOLD = "{name}的角色是{role},不能负责客户。请分配给销售或总监。"
NOT_IN_TEAM = "{name}不在你的团队,不能分配给他。请联系销售总监。"
ALREADY_OWNER = "「{customer}」的负责人已经是{name}了。"


def several(query: str, names: list[str]) -> str:
    listed = "\n".join(f"{i}. {name}" for i, name in enumerate(names[:9], 1))
    return f"「{query}」匹配到多个客户:\n{listed}\n请用更完整的名称再发一次。"


def _filters(region: str | None, industry: str | None) -> str:
    parts = [f"区域 {region}" if region else "", f"行业 {industry}" if industry else ""]
    return ",".join(part for part in parts if part)


def pool_list(customers, total: int, region: str | None, industry: str | None, today: date) -> str:
    filters = _filters(region, industry)
    if total == 0:
        return f"公海里没有符合条件({filters})的客户。" if filters else "公海里现在没有客户。"

    header = f"🌊 公海客户共 {total} 个" + (f"({filters})" if filters else "") + ":"
    lines = [header]
    for index, customer in enumerate(customers, 1):
        details = [value for value in (customer.region, customer.industry) if value]
        last = customer.last_follow_up_at
        details.append(f"最近跟进 {day(local_day(last), today)}" if last else "暂无跟进")
        lines.append(f"{index}. {customer.name}({' · '.join(details)})")
    if total > len(customers):
        lines.append(f"只列出前 {len(customers)} 个。可以筛选,例如「公海 区域 苏州」「公海 行业 混凝土」。")
    lines.append("发「领取 客户名」领取。")
    return fit_reply("\n".join(lines))


def holding_limit(count: int, limit: int, name: str | None = None) -> str:
    if name is None:
        return f"你名下已有 {count} 个客户,达到上限 {limit} 个,不能再领取。不再跟进的客户可以请总监收回。"
    return f"{name}名下已有 {count} 个客户,达到上限 {limit} 个,没有分配。"


def cooldown(name: str, kind: str, lost_on: date, claimable_on: date, today: date) -> str:
    loss = "自动回到公海" if kind == "release" else "被收回到公海"
    return (
        f"「{name}」{day(lost_on, today)}从你名下{loss},冷却期内不能再领取,"
        f"{day(claimable_on, today)}起可以领取。如需马上跟进,请联系区域总监分配。"
    )


def claimed(name: str, release_after_days: int) -> str:
    return f"✅ 已领取「{name}」,负责人是你了。请在 {release_after_days} 天内跟进,否则会自动回到公海。"


def claimed_notice(rep: str, name: str) -> str:
    return f"{rep}领取了公海客户「{name}」。"


def assigned(name: str, assignee: str, previous: str | None) -> str:
    source = f"原负责人:{previous}" if previous else "来自公海"
    return f"✅ 已把「{name}」分配给{assignee}({source})。"


def assigned_notice(director: str, name: str, release_after_days: int) -> str:
    return f"{director}把客户「{name}」分配给你了。请在 {release_after_days} 天内跟进,否则会自动回到公海。"


def reassigned_notice(director: str, name: str, assignee: str) -> str:
    return f"{director}把你的客户「{name}」转给了{assignee}。"


def taken_back(name: str, owner: str) -> str:
    return f"✅ 已把「{name}」从{owner}名下收回到公海。"


def taken_back_notice(director: str, name: str, reason: str | None, cooldown_days: int) -> str:
    because = f",原因:{reason}" if reason else ""
    return f"{director}把你的客户「{name}」收回到了公海{because}。{cooldown_days} 天内你不能再领取它。"


def released_notice(
    customers: list[tuple[str, date | None]], total: int, release_after_days: int, cooldown_days: int, today: date
) -> str:
    """Name an owner's first customers released to the pool, each with its last follow-up date, and count the rest."""
    lines = [f"📤 以下 {total} 个客户超过 {release_after_days} 天没有跟进,已自动回到公海:"]
    for name, last in customers:
        lines.append(f"· {name}(最近跟进 {day(last, today) if last else '无'})")
    if total > len(customers):
        lines.append(f"……另有 {total - len(customers)} 个,发「公海」可以查看。")
    lines.append(f"{cooldown_days} 天内你不能再领取它们;如需继续跟进,请联系区域总监分配。")
    return fit_reply("\n".join(lines))


def released_team_notice(by_owner: dict[str, tuple[int, list[str]]], release_after_days: int) -> str:
    """Count a director's team's released customers per former owner, naming the first few of each."""
    count = sum(total for total, _ in by_owner.values())
    lines = [f"📤 你的团队有 {count} 个客户超过 {release_after_days} 天没有跟进,已自动回到公海:"]
    for owner, (total, names) in by_owner.items():
        more = f" 等 {total} 个" if total > len(names) else ""
        lines.append(f"· {owner}:{'、'.join(names)}{more}")
    lines.append("可以发「分配 客户 给 姓名」重新分配。")
    return fit_reply("\n".join(lines))


def warning_notice(customers: list[tuple[str, date]], today: date) -> str:
    """List an owner's customers that go back to the pool soon, each with the day its time runs out.

    The release job runs once a day, so a customer leaves at its first run after that day's time.
    """
    lines = [f"⏰ 以下 {len(customers)} 个客户很久没有跟进,到期后会自动回到公海:"]
    for name, expires_on in customers:
        lines.append(f"· {name}:{day(expires_on, today)}到期")
    lines.append("发一条拜访或电话记录即可保留。")
    return fit_reply("\n".join(lines))
