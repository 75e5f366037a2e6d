"""The local WeCom server: `/cgi-bin/` APIs with WeCom's shapes and errcodes, plus inspection.

`/cgi-bin/` serves gettoken, message/send, message/update_template_card, media/upload,
appchat/create, appchat/send, webhook/send and webhook/upload_media, following the rules that
`bot.emulator.state` implements. `/emulator/api/...` lets tests, the CLI and the page read what
was delivered, inject faults, and act as a member: send a text or tap a card's button through
the bot's real encrypted callback. `/` is a page in Chinese where a person does the same.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx
from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field

from bot.emulator.device import WeComDevice
from bot.emulator.kf import create_kf_router
from bot.emulator.media import parse_multipart
from bot.emulator.pages import render_index, render_overview
from bot.emulator.state import (
    ApiOutcome,
    ClickRejected,
    EmulatorConfig,
    EmulatorState,
    Fault,
)

logger = logging.getLogger(__name__)

FAULT_PATHS = (
    "gettoken",
    "message/send",
    "message/update_template_card",
    "media/upload",
    "appchat/create",
    "appchat/send",
    "webhook/send",
    "webhook/upload_media",
)
MAX_FAULT_DELAY_SECONDS = 60.0


class FaultRequest(BaseModel):
    path: str = "message/send"
    errcode: int | None = None
    errmsg: str | None = None
    delay_seconds: float | None = Field(default=None, ge=0, le=MAX_FAULT_DELAY_SECONDS)
    count: int = Field(default=1, ge=1)


class DeviceTextRequest(BaseModel):
    user: str = Field(min_length=1)
    text: str = Field(min_length=1)


class CardClickRequest(BaseModel):
    user: str = Field(min_length=1)
    task_id: str = Field(min_length=1)
    button_key: str = Field(min_length=1)


async def _respond(outcome: ApiOutcome) -> JSONResponse:
    if outcome.delay_seconds:
        await asyncio.sleep(outcome.delay_seconds)
    return JSONResponse(outcome.body)


async def _json_body(request: Request) -> Any:
    """Return the parsed JSON body, or None when it is not JSON (the state then returns 47001)."""
    raw = await request.body()
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None


def create_emulator_app(config: EmulatorConfig | None = None, clock: Callable[[], float] = time.time) -> FastAPI:
    """Build the emulator app; `clock` returns Unix seconds and drives every expiry and rate window."""
    config = config or EmulatorConfig()
    state = EmulatorState(config, clock)
    app = FastAPI(title="WeCom emulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.emulator = state
    _add_wecom_routes(app, state)
    _add_inspection_routes(app, state)
    _add_device_routes(app, state, config)
    app.include_router(create_kf_router(state, config, clock))

    @app.get("/", response_class=HTMLResponse)
    def index() -> HTMLResponse:
        return HTMLResponse(render_index(config))

    @app.get("/overview", response_class=HTMLResponse)
    def overview() -> HTMLResponse:
        return HTMLResponse(render_overview(config, state.messages(), state.dropped()))

    return app


def _add_wecom_routes(app: FastAPI, state: EmulatorState) -> None:
    """Add the `/cgi-bin/` routes that the bot calls as it would call WeCom."""

    @app.get("/cgi-bin/gettoken")
    async def get_token(corpid: str | None = None, corpsecret: str | None = None) -> JSONResponse:
        outcome = state.get_token(corpid, corpsecret)
        if outcome.body["errcode"]:
            logger.info("gettoken rejected: errcode %s", outcome.body["errcode"])
        return await _respond(outcome)

    @app.post("/cgi-bin/message/send")
    async def send_message(request: Request, access_token: str | None = None) -> JSONResponse:
        return await _respond(state.send_message(access_token, await _json_body(request)))

    @app.post("/cgi-bin/message/update_template_card")
    async def update_template_card(request: Request, access_token: str | None = None) -> JSONResponse:
        return await _respond(state.update_template_card(access_token, await _json_body(request)))

    @app.post("/cgi-bin/media/upload")
    async def upload_media(request: Request, access_token: str | None = None, type: str | None = None) -> JSONResponse:
        upload = parse_multipart(request.headers.get("content-type", ""), await request.body())
        return await _respond(state.upload_media(access_token, type, upload))

    @app.post("/cgi-bin/appchat/create")
    async def create_appchat(request: Request, access_token: str | None = None) -> JSONResponse:
        return await _respond(state.create_appchat(access_token, await _json_body(request)))

    @app.post("/cgi-bin/appchat/send")
    async def send_appchat(request: Request, access_token: str | None = None) -> JSONResponse:
        return await _respond(state.send_appchat(access_token, await _json_body(request)))

    @app.post("/cgi-bin/webhook/send")
    async def send_webhook(request: Request, key: str | None = None) -> JSONResponse:
        return await _respond(state.send_webhook(key, await _json_body(request)))

    @app.post("/cgi-bin/webhook/upload_media")
    async def upload_robot_media(request: Request, key: str | None = None, type: str | None = None) -> JSONResponse:
        upload = parse_multipart(request.headers.get("content-type", ""), await request.body())
        return await _respond(state.upload_robot_media(key, type, upload))


def _add_inspection_routes(app: FastAPI, state: EmulatorState) -> None:
    """Add `/emulator/api/` routes that read the emulator's state and control faults."""

    @app.get("/emulator/api/messages")
    def list_messages(touser: str | None = None, after: int = 0) -> JSONResponse:
        return JSONResponse({"messages": state.messages(touser=touser, after=after)})

    @app.get("/emulator/api/dropped")
    def list_dropped(touser: str | None = None) -> JSONResponse:
        return JSONResponse({"messages": state.dropped(touser=touser)})

    @app.get("/emulator/api/conversation")
    def show_conversation(user: str, after: int = 0) -> JSONResponse:
        return JSONResponse({"messages": state.conversation(user, after=after)})

    @app.get("/emulator/api/users")
    def list_users() -> JSONResponse:
        return JSONResponse(state.users())

    @app.get("/emulator/api/chats")
    def list_chats() -> JSONResponse:
        return JSONResponse(state.chats())

    @app.get("/emulator/api/chats/{chatid}/messages")
    def list_chat_messages(chatid: str, after: int = 0) -> JSONResponse:
        return JSONResponse({"messages": state.group_messages("appchat", chatid, after=after)})

    @app.get("/emulator/api/robots/{key}/messages")
    def list_robot_messages(key: str, after: int = 0) -> JSONResponse:
        return JSONResponse({"messages": state.group_messages("robot", key, after=after)})

    @app.get("/emulator/api/cards/{task_id}")
    def show_card(task_id: str) -> JSONResponse:
        card = state.card(task_id)
        if card is None:
            raise HTTPException(404, f"没有任务卡片 {task_id!r}")
        return JSONResponse(card)

    @app.get("/emulator/api/media/{media_id}")
    def download_media(media_id: str) -> Response:
        media = state.media(media_id)
        if media is None:
            raise HTTPException(404, "素材不存在或已过期（临时素材保存 3 天）")
        disposition = "inline" if media.media_type == "image" else "attachment"
        headers = {"Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(media.filename or media.media_id)}"}
        return Response(media.data, media_type=media.content_type, headers=headers)

    @app.get("/emulator/api/stats")
    def show_stats() -> JSONResponse:
        return JSONResponse(state.stats())

    @app.post("/emulator/api/reset")
    def reset() -> JSONResponse:
        state.reset()
        logger.info("emulator state reset")
        return JSONResponse({"ok": True})

    @app.post("/emulator/api/faults")
    def add_fault(request: FaultRequest) -> JSONResponse:
        path = request.path.removeprefix("/").removeprefix("cgi-bin/")
        if path not in FAULT_PATHS:
            raise HTTPException(400, f"不支持的路径 {request.path!r}，可用：{'、'.join(FAULT_PATHS)}")
        if request.errcode is None and request.delay_seconds is None:
            raise HTTPException(400, "请至少指定 errcode 或 delay_seconds")
        fault = Fault(errcode=request.errcode, errmsg=request.errmsg, delay_seconds=request.delay_seconds or 0.0)
        state.add_fault(path, fault, request.count)
        logger.info("fault added on %s: errcode %s, delay %s s, count %d", path, fault.errcode, fault.delay_seconds, request.count)
        return JSONResponse({"ok": True})


def _add_device_routes(app: FastAPI, state: EmulatorState, config: EmulatorConfig) -> None:
    """Add `/emulator/api/device/` routes that post a member's actions to the bot's callback."""

    def require_callback_url() -> str:
        if not config.callback_url:
            raise HTTPException(409, "未配置回调地址（callback_url），无法向机器人发送消息")
        return config.callback_url

    def post_callback(send: Callable[[WeComDevice], httpx.Response]) -> httpx.Response:
        device = WeComDevice(
            require_callback_url(), config.callback_token, config.callback_aes_key, config.corp_id, config.agent_id
        )
        try:
            return send(device)
        except httpx.HTTPError as error:
            logger.warning("callback post to %s failed: %s", config.callback_url, error)
            raise HTTPException(502, f"回调地址无法访问：{error}") from error
        finally:
            device.close()

    @app.post("/emulator/api/device/text")
    def post_member_text(request: DeviceTextRequest) -> JSONResponse:
        """Post a member's text message to the bot's callback as WeCom would."""
        require_callback_url()
        state.record_member_text(request.user, request.text)
        response = post_callback(lambda device: device.send_text(request.user, request.text))
        return JSONResponse({"status_code": response.status_code})

    @app.post("/emulator/api/device/card_click")
    def post_card_click(request: CardClickRequest) -> JSONResponse:
        """Tap a card's button as `user`: issue a fresh response code and post `template_card_event`."""
        require_callback_url()
        try:
            code, card_type = state.prepare_card_click(request.user, request.task_id, request.button_key)
        except ClickRejected as rejected:
            raise HTTPException(rejected.status_code, rejected.message) from rejected
        response = post_callback(
            lambda device: device.send_card_click(
                request.user, request.task_id, request.button_key, code, card_type=card_type
            )
        )
        logger.info("card click posted: task_id=%s user=%s key=%s", request.task_id, request.user, request.button_key)
        return JSONResponse({"status_code": response.status_code, "response_code": code})
