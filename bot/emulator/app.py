"""The local WeCom server: `/cgi-bin/` APIs with WeCom's shapes and errcodes, plus inspection.

`/cgi-bin/gettoken` and `/cgi-bin/message/send` follow WeCom's documented rules, which
`bot.emulator.state` implements. `/emulator/api/...` lets tests and the CLI read what was
delivered, inject faults and post a member's message to the bot. `/` is a page in Chinese that
lists recent messages per member.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import httpx
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field

from bot.emulator.device import WeComDevice
from bot.emulator.pages import render_index
from bot.emulator.state import EmulatorConfig, EmulatorState, Fault, ApiOutcome

logger = logging.getLogger(__name__)

FAULT_PATHS = ("gettoken", "message/send")
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


async def _respond(outcome: ApiOutcome) -> JSONResponse:
    if outcome.delay_seconds:
        await asyncio.sleep(outcome.delay_seconds)
    return JSONResponse(outcome.body)


def create_emulator_app(config: EmulatorConfig | None = None, clock: Callable[[], float] = time.time) -> FastAPI:
    """Build the emulator app; `clock` returns Unix seconds and drives token expiry and rate windows."""
    config = config or EmulatorConfig()
    state = EmulatorState(config, clock)
    app = FastAPI(title="WeCom emulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.emulator = state

    @app.get("/cgi-bin/gettoken")
    async def get_token(corpid: str | None = None, corpsecret: str | None = None) -> JSONResponse:
        outcome = state.get_token(corpid, corpsecret)
        if outcome.body["errcode"]:
            logger.info("gettoken rejected: errcode %s", outcome.body["errcode"])
        return await _respond(outcome)

    @app.post("/cgi-bin/message/send")
    async def send_message(request: Request, access_token: str | None = None) -> JSONResponse:
        raw = await request.body()
        try:
            payload: Any = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError):
            payload = None
        outcome = state.send_message(access_token, payload)
        return await _respond(outcome)

    @app.get("/emulator/api/messages")
    def list_messages(touser: str | None = None, after: int = 0) -> JSONResponse:
        return JSONResponse({"messages": state.messages(touser=touser, after=after)})

    @app.get("/emulator/api/dropped")
    def list_dropped(touser: str | None = None) -> JSONResponse:
        return JSONResponse({"messages": state.dropped(touser=touser)})

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

    @app.post("/emulator/api/device/text")
    def post_member_text(request: DeviceTextRequest) -> JSONResponse:
        """Post a member's text message to the bot's callback as WeCom would."""
        if not config.callback_url:
            raise HTTPException(409, "未配置回调地址（callback_url），无法向机器人发送消息")
        device = WeComDevice(
            config.callback_url, config.callback_token, config.callback_aes_key, config.corp_id, config.agent_id
        )
        try:
            response = device.send_text(request.user, request.text)
        except httpx.HTTPError as error:
            logger.warning("callback post to %s failed: %s", config.callback_url, error)
            raise HTTPException(502, f"回调地址无法访问：{error}") from error
        finally:
            device.close()
        return JSONResponse({"status_code": response.status_code})

    @app.get("/", response_class=HTMLResponse)
    def index() -> HTMLResponse:
        return HTMLResponse(render_index(config, state.messages(), state.dropped()))

    return app
