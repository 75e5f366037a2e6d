"""Server-rendered pages of the emulator, in Chinese because people read them."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from html import escape
from typing import Any

from bot.emulator.state import EmulatorConfig

MESSAGES_PER_MEMBER = 50

_STYLE = """
body { font-family: sans-serif; margin: 2em; color: #222; }
h2 { margin-top: 1.5em; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }
td.content { white-space: pre-wrap; }
.muted { color: #888; }
"""


def _format_time(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M:%S")


def _format_content(message: dict[str, Any]) -> str:
    content = message["content"]
    if isinstance(content, str):
        return escape(content)
    return escape(repr(content))


def _render_member(user: str, messages: list[dict[str, Any]]) -> str:
    rows = [
        f"<tr><td>{m['id']}</td><td>{_format_time(m['timestamp'])}</td>"
        f"<td>{escape(m['msgtype'])}</td><td class=\"content\">{_format_content(m)}</td></tr>"
        for m in reversed(messages[-MESSAGES_PER_MEMBER:])
    ]
    return (
        f"<h2>{escape(user)}（共 {len(messages)} 条）</h2>"
        "<table><tr><th>编号</th><th>时间</th><th>类型</th><th>内容</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def render_index(config: EmulatorConfig, messages: list[dict[str, Any]], dropped: list[dict[str, Any]]) -> str:
    """Render the index page: recent delivered messages per member, newest first."""
    by_member: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for message in messages:
        by_member[message["touser"]].append(message)

    if by_member:
        sections = "".join(_render_member(user, by_member[user]) for user in sorted(by_member))
    else:
        sections = '<p class="muted">暂无已送达的消息。</p>'

    return (
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
        "<title>企业微信模拟器</title>"
        f"<style>{_STYLE}</style></head><body>"
        "<h1>企业微信模拟器</h1>"
        f"<p>企业 ID：{escape(config.corp_id)}　应用 AgentID：{config.agent_id}　"
        f"已送达 {len(messages)} 条，因超出频率限制被丢弃 {len(dropped)} 条。</p>"
        "<p class=\"muted\">每位成员显示最近 "
        f"{MESSAGES_PER_MEMBER} 条，最新的在前。</p>"
        f"{sections}</body></html>"
    )
