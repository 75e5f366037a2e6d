"""Replies about photos, voice, files and locations."""

KIND_LABELS = {"image": "照片", "voice": "语音", "video": "视频", "file": "文件", "location": "位置", "link": "链接"}


def kept(kind: str, activity, label: str | None) -> str:
    what = KIND_LABELS.get(kind, "附件")
    extra = ""
    if kind == "voice":
        extra = "\n语音不会自动转成文字,拜访内容请用文字发送。"
    if kind == "location" and label:
        what = f"位置「{label}」"
    if activity is None:
        return f"📎 已保存{what}。你最近12小时没有拜访记录;2小时内发这次拜访的文字记录,{what}会自动关联过去。{extra}"
    target = activity.customer.name if activity.customer else "上一条记录"
    return f"📎 已把{what}存到你最近一条拜访记录({target})。{extra}"
