"""The emulator's pages, in Chinese because people read them.

`render_index` is the interactive page. A person picks a member and sends texts as that member
through the bot's encrypted callback. The page shows the bot's replies, cards and images, lets
the person tap card buttons, and lists group chats and robot messages. Its script polls the JSON API every second and
builds the DOM with `textContent`, so no message text is ever parsed as HTML. `render_overview`
is a server-rendered table of every delivered message.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from html import escape
from typing import Any

from bot.emulator.state import EmulatorConfig

MESSAGES_PER_MEMBER = 50

_OVERVIEW_STYLE = """
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


def render_overview(config: EmulatorConfig, messages: list[dict[str, Any]], dropped: list[dict[str, Any]]) -> str:
    """Render the overview page: recent delivered messages per member, newest first."""
    by_member: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for message in messages:
        by_member[message["touser"]].append(message)

    if by_member:
        sections = "".join(_render_member(user, by_member[user]) for user in sorted(by_member))
    else:
        sections = '<p class="muted">暂无已送达的消息。</p>'

    return (
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
        "<title>企业微信模拟器 · 全部消息</title>"
        f"<style>{_OVERVIEW_STYLE}</style></head><body>"
        "<h1>企业微信模拟器 · 全部消息</h1>"
        "<p><a href=\"/\">返回操作页面</a></p>"
        f"<p>企业 ID：{escape(config.corp_id)}　应用 AgentID：{config.agent_id}　"
        f"已送达 {len(messages)} 条，因超出频率限制被丢弃 {len(dropped)} 条。</p>"
        "<p class=\"muted\">每位成员显示最近 "
        f"{MESSAGES_PER_MEMBER} 条，最新的在前。</p>"
        f"{sections}</body></html>"
    )


def render_index(config: EmulatorConfig) -> str:
    """Render the interactive page; its script reads and acts through `/emulator/api/`."""
    callback = escape(config.callback_url) if config.callback_url else "未配置（无法以成员身份发送）"
    return (
        _INDEX_TEMPLATE.replace("{{corp_id}}", escape(config.corp_id))
        .replace("{{agent_id}}", str(config.agent_id))
        .replace("{{callback}}", callback)
    )


_INDEX_TEMPLATE = r"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>企业微信模拟器</title>
<style>
body { font-family: "PingFang SC", "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; margin: 0; color: #222; background: #f2f3f5; }
header { background: #2b7de9; color: #fff; padding: 10px 20px; }
header h1 { margin: 0; font-size: 20px; display: inline-block; margin-right: 1em; }
header span { font-size: 13px; margin-right: 1.5em; }
header a { color: #fff; }
main { display: flex; gap: 16px; padding: 16px; align-items: flex-start; }
section { background: #fff; border-radius: 6px; padding: 12px 16px; box-shadow: 0 1px 2px rgba(0,0,0,.1); }
#member-panel { flex: 3; min-width: 360px; }
#groups-panel { flex: 2; min-width: 280px; }
h2 { font-size: 16px; margin: 4px 0 10px; }
.user-picker { display: flex; gap: 6px; align-items: center; flex-wrap: wrap; }
.user-picker input { padding: 4px 6px; font-size: 14px; }
#conversation { height: 480px; overflow-y: auto; border: 1px solid #e3e3e3; border-radius: 4px; padding: 8px; margin: 10px 0; background: #fafafa; }
.item { margin: 8px 0; display: flex; flex-direction: column; }
.item.in { align-items: flex-end; }
.item.out { align-items: flex-start; }
.meta { font-size: 11px; color: #999; margin-bottom: 2px; }
.bubble { max-width: 80%; padding: 6px 10px; border-radius: 6px; white-space: pre-wrap; word-break: break-word; background: #fff; border: 1px solid #ddd; }
.item.in .bubble { background: #cfe8ff; border-color: #b3d7ff; }
.card { width: 320px; border: 1px solid #cfd6e0; border-radius: 6px; background: #fff; padding: 10px; }
.card .title { font-weight: bold; margin-bottom: 4px; }
.card .desc { color: #666; font-size: 13px; margin-bottom: 6px; white-space: pre-wrap; }
.card .row { font-size: 13px; margin: 2px 0; }
.card .row .key { color: #888; margin-right: 6px; }
.card .buttons { display: flex; gap: 6px; margin-top: 8px; flex-wrap: wrap; }
.card button { padding: 4px 12px; border: 1px solid #2b7de9; background: #2b7de9; color: #fff; border-radius: 4px; cursor: pointer; }
.card button.style-2 { background: #fff; color: #2b7de9; }
.card button.style-3 { background: #e64340; border-color: #e64340; }
.card.greyed { background: #f0f0f0; color: #888; }
.card.greyed button, .card button:disabled { background: #ddd; border-color: #ccc; color: #888; cursor: default; }
.card .state { font-size: 12px; color: #999; margin-top: 6px; }
img.media-image { max-width: 300px; max-height: 300px; border: 1px solid #ddd; border-radius: 4px; display: block; }
#send-form { display: flex; gap: 6px; }
#message-input { flex: 1; height: 60px; font-size: 14px; padding: 6px; }
#send-button { padding: 0 18px; }
#status { font-size: 13px; color: #555; min-height: 1.2em; }
#status.error { color: #c00; }
.group { border: 1px solid #e3e3e3; border-radius: 4px; padding: 8px; margin-bottom: 10px; }
.group h3 { font-size: 14px; margin: 0 0 4px; }
.group .members { font-size: 12px; color: #888; margin-bottom: 6px; }
.muted { color: #999; font-size: 13px; }
</style>
</head>
<body>
<header>
  <h1>企业微信模拟器</h1>
  <span>企业 ID：{{corp_id}}</span>
  <span>应用 AgentID：{{agent_id}}</span>
  <span>机器人回调：{{callback}}</span>
  <a href="/overview">全部消息一览</a>
</header>
<main>
  <section id="member-panel">
    <h2>以成员身份操作</h2>
    <div class="user-picker">
      <label for="user-input">成员 userid</label>
      <input id="user-input" list="user-list" placeholder="选择或输入，例如 zhangwei" autocomplete="off">
      <datalist id="user-list"></datalist>
      <button id="choose-user" type="button">切换到该成员</button>
      <span id="current-user" class="muted">尚未选择成员</span>
    </div>
    <div id="conversation"><p class="muted">请先选择一位成员，这里会显示他与机器人的对话。</p></div>
    <form id="send-form">
      <textarea id="message-input" placeholder="以当前成员的身份给机器人发消息（Ctrl+Enter 发送）"></textarea>
      <button id="send-button" type="submit">发送</button>
    </form>
    <p id="status"></p>
  </section>
  <section id="groups-panel">
    <h2>群聊与群机器人</h2>
    <div id="groups"><p class="muted">暂无群聊或群机器人消息。</p></div>
  </section>
</main>
<script>
"use strict";
const API = "/emulator/api/";
const POLL_MS = 1000;
const GROUP_MESSAGES_SHOWN = 20;
let currentUser = "";
let lastConversation = "";
let lastGroups = "";

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function formatTime(seconds) {
  return new Date(seconds * 1000).toLocaleString("zh-CN", { hour12: false });
}

function formatSize(bytes) {
  if (bytes >= 1024 * 1024) return (bytes / 1024 / 1024).toFixed(1) + " MB";
  if (bytes >= 1024) return (bytes / 1024).toFixed(1) + " KB";
  return bytes + " 字节";
}

function setStatus(text, isError) {
  const status = document.getElementById("status");
  status.textContent = text;
  status.className = isError ? "error" : "";
}

async function readError(response) {
  try {
    const body = await response.json();
    return typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
  } catch (error) {
    return "HTTP " + response.status;
  }
}

function renderCard(message) {
  const card = message.content || {};
  const state = message.card || {};
  const box = el("div", "card");
  box.dataset.taskId = card.task_id || "";
  if (state.updated) box.classList.add("greyed");

  const source = card.source && card.source.desc;
  if (source) box.appendChild(el("div", "desc", source));
  const mainTitle = card.main_title || {};
  box.appendChild(el("div", "title", mainTitle.title || "（无标题）"));
  if (mainTitle.desc) box.appendChild(el("div", "desc", mainTitle.desc));
  if (card.sub_title_text) box.appendChild(el("div", "desc", card.sub_title_text));
  for (const row of card.horizontal_content_list || []) {
    const line = el("div", "row");
    line.appendChild(el("span", "key", row.keyname || ""));
    line.appendChild(el("span", "value", row.value || ""));
    box.appendChild(line);
  }

  const buttons = el("div", "buttons");
  if (state.updated) {
    const done = el("button", "", state.replace_name || "已处理");
    done.disabled = true;
    buttons.appendChild(done);
  } else {
    for (const button of card.button_list || []) {
      const node = el("button", "style-" + (button.style || 1), button.text);
      node.type = "button";
      node.dataset.key = button.key;
      node.addEventListener("click", () => clickCard(card.task_id, button.key, button.text));
      buttons.appendChild(node);
    }
  }
  box.appendChild(buttons);

  const clicks = (state.clicks || []).map((click) => click.user + " 点了「" + click.key + "」");
  const note = state.updated ? "卡片已更新，按钮已置灰" : (clicks.length ? clicks.join("；") : "");
  if (note) box.appendChild(el("div", "state", note));
  return box;
}

function renderMedia(message) {
  const media = message.media || {};
  if (message.msgtype === "image" && media.media_id) {
    const image = el("img", "media-image");
    image.src = API + "media/" + encodeURIComponent(media.media_id);
    image.alt = "图片";
    return image;
  }
  const link = el("a", "", "📎 " + (media.filename || "文件") + "（" + formatSize(media.size || 0) + "）");
  link.href = API + "media/" + encodeURIComponent(media.media_id || "");
  return link;
}

function renderContent(message) {
  const content = message.content;
  if (message.msgtype === "template_card") return renderCard(message);
  if (message.msgtype === "image" || message.msgtype === "file") {
    const bubble = el("div", "bubble");
    bubble.appendChild(renderMedia(message));
    return bubble;
  }
  if (message.msgtype === "card_click") {
    return el("div", "bubble", "点击了卡片 " + content.task_id + " 的按钮「" + (content.text || content.key) + "」");
  }
  if (typeof content === "string") return el("div", "bubble", content);
  if (content && (content.title || content.description)) {
    return el("div", "bubble", [content.title, content.description].filter(Boolean).join("\n"));
  }
  return el("div", "bubble", JSON.stringify(content, null, 2));
}

function renderConversation(messages) {
  const box = document.getElementById("conversation");
  const atBottom = box.scrollTop + box.clientHeight >= box.scrollHeight - 20;
  box.replaceChildren();
  if (!messages.length) {
    box.appendChild(el("p", "muted", currentUser + " 与机器人之间还没有消息。"));
    return;
  }
  for (const message of messages) {
    const item = el("div", "item " + message.direction);
    item.dataset.id = message.id;
    item.dataset.msgtype = message.msgtype;
    const sender = message.direction === "in" ? currentUser : "机器人";
    item.appendChild(el("div", "meta", sender + " · " + formatTime(message.timestamp)));
    item.appendChild(renderContent(message));
    box.appendChild(item);
  }
  if (atBottom) box.scrollTop = box.scrollHeight;
}

function renderGroupMessage(message) {
  const item = el("div", "item out");
  item.dataset.id = message.id;
  item.appendChild(el("div", "meta", message.msgtype + " · " + formatTime(message.timestamp)));
  item.appendChild(renderContent(message));
  return item;
}

function renderGroups(groups) {
  const box = document.getElementById("groups");
  box.replaceChildren();
  if (!groups.length) {
    box.appendChild(el("p", "muted", "暂无群聊或群机器人消息。"));
    return;
  }
  for (const group of groups) {
    const node = el("div", "group");
    node.dataset.kind = group.kind;
    node.appendChild(el("h3", "", group.title));
    if (group.members) node.appendChild(el("div", "members", group.members));
    if (!group.messages.length) node.appendChild(el("p", "muted", "暂无消息。"));
    for (const message of group.messages) node.appendChild(renderGroupMessage(message));
    box.appendChild(node);
  }
}

async function getJson(path) {
  const response = await fetch(API + path);
  if (!response.ok) throw new Error(path + ": HTTP " + response.status);
  return response.json();
}

async function refreshConversation() {
  if (!currentUser) return;
  const body = await getJson("conversation?user=" + encodeURIComponent(currentUser));
  const text = JSON.stringify(body.messages);
  if (text !== lastConversation) {
    lastConversation = text;
    renderConversation(body.messages);
  }
}

async function refreshGroups() {
  const chats = await getJson("chats");
  const groups = [];
  for (const chat of chats.appchats) {
    const body = await getJson("chats/" + encodeURIComponent(chat.chatid) + "/messages");
    groups.push({
      kind: "appchat",
      title: "群聊：" + (chat.name || chat.chatid) + "（" + chat.chatid + "）",
      members: "群主 " + chat.owner + "，成员 " + chat.userlist.join("、"),
      messages: body.messages.slice(-GROUP_MESSAGES_SHOWN),
    });
  }
  for (const robot of chats.robots) {
    const body = await getJson("robots/" + encodeURIComponent(robot.key) + "/messages");
    groups.push({
      kind: "robot",
      title: "群机器人：" + robot.key,
      members: "共 " + robot.message_count + " 条",
      messages: body.messages.slice(-GROUP_MESSAGES_SHOWN),
    });
  }
  const text = JSON.stringify(groups);
  if (text !== lastGroups) {
    lastGroups = text;
    renderGroups(groups);
  }
}

async function refreshUsers() {
  const users = await getJson("users");
  const list = document.getElementById("user-list");
  list.replaceChildren();
  for (const user of [...new Set([...users.known, ...users.seen])].sort()) {
    const option = el("option");
    option.value = user;
    list.appendChild(option);
  }
}

function chooseUser() {
  const user = document.getElementById("user-input").value.trim();
  if (!user) {
    setStatus("请先输入成员 userid。", true);
    return;
  }
  currentUser = user;
  lastConversation = "";
  localStorage.setItem("emulator-user", user);
  document.getElementById("current-user").textContent = "当前成员：" + user;
  setStatus("已切换到成员 " + user + "。", false);
  refreshConversation().catch((error) => setStatus("读取对话失败：" + error.message, true));
}

async function sendText(event) {
  event.preventDefault();
  const input = document.getElementById("message-input");
  const text = input.value.trim();
  if (!currentUser) {
    setStatus("请先选择成员。", true);
    return;
  }
  if (!text) return;
  const response = await fetch(API + "device/text", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ user: currentUser, text: text }),
  });
  if (!response.ok) {
    setStatus("发送失败：" + (await readError(response)), true);
    return;
  }
  const body = await response.json();
  input.value = "";
  setStatus("已发送，机器人回调返回 HTTP " + body.status_code + "。", body.status_code !== 200);
  await refreshConversation();
}

async function clickCard(taskId, key, text) {
  const response = await fetch(API + "device/card_click", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ user: currentUser, task_id: taskId, button_key: key }),
  });
  if (!response.ok) {
    setStatus("点击失败：" + (await readError(response)), true);
    return;
  }
  const body = await response.json();
  setStatus("已点击「" + text + "」，机器人回调返回 HTTP " + body.status_code + "。", body.status_code !== 200);
  await refreshConversation();
}

async function poll() {
  try {
    await refreshConversation();
    await refreshGroups();
  } catch (error) {
    setStatus("刷新失败：" + error.message, true);
  }
  setTimeout(poll, POLL_MS);
}

document.getElementById("choose-user").addEventListener("click", chooseUser);
document.getElementById("user-input").addEventListener("keydown", (event) => {
  if (event.key === "Enter") chooseUser();
});
document.getElementById("send-form").addEventListener("submit", (event) => {
  sendText(event).catch((error) => setStatus("发送失败：" + error.message, true));
});
document.getElementById("message-input").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && event.ctrlKey) document.getElementById("send-form").requestSubmit();
});
refreshUsers().catch((error) => setStatus("读取成员列表失败：" + error.message, true));
setInterval(() => refreshUsers().catch(() => {}), 5 * POLL_MS);
const savedUser = localStorage.getItem("emulator-user");
if (savedUser) {
  document.getElementById("user-input").value = savedUser;
  chooseUser();
}
poll();
</script>
</body>
</html>
"""
