"""Questions the bot asks about a note, and the answers to bad replies."""

ABANDONED = "⚠️ 上一条记录还在等你确认客户,已放弃,没有保存;需要的话请重新发送。"
EXPIRED = "⏰ 刚才那条记录等你确认客户超过10分钟,已放弃,没有保存;需要的话请重新发送。"
CANCELLED = "已取消,这条记录没有保存。"
CUSTOMER_NOT_FOUND = "没有找到客户「{query}」,上一条记录没有改动。"
BAD_AMOUNT = "没看懂金额「{text}」,请写成「改 金额 90万」或「改 金额 900000」。"
BAD_DATE = "没看懂日期「{text}」,请写成「改 跟进 下周三」或「改 跟进 12月20日」。"
BAD_STAGE = "没有「{text}」这个阶段。阶段:线索登记、初步沟通、需求确认、方案报价、合同签订、发货回款。"


def which_customer(written: str, names: list[str]) -> str:
    options = "\n".join(f"{i}. {name}" for i, name in enumerate(names, 1))
    return f"「{written}」对应多个客户:\n{options}\n请回复序号;回复 0 不关联客户;回复「取消」这条记录不保存。"


def new_customer(name: str) -> str:
    return (
        f"「{name}」还不是系统里的客户。\n"
        "回复 1 新建这个客户并保存记录;回复 2 不关联这个客户;回复「取消」这条记录不保存。"
    )


def bad_choice(count: int) -> str:
    return f"请回复 1 到 {count} 之间的序号,或回复「取消」。"


def several_customers(query: str, names: list[str]) -> str:
    return f"「{query}」匹配到多个客户:{'、'.join(names[:5])}。请写得更完整一些。"
