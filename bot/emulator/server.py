"""Run a FastAPI app with uvicorn in a background thread, and inspect a running emulator.

`start_app_in_thread` serves any ASGI app on loopback for tests and for `zhongshu dev`;
`start_emulator_in_thread` does so for the WeCom emulator. `EmulatorInspector` reads what the
emulator delivered through its HTTP inspection API, so a test or the CLI can watch a separate
process just as well as one in the same process.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import uvicorn

from bot.emulator.app import create_emulator_app
from bot.emulator.state import EmulatorConfig

logger = logging.getLogger(__name__)

STARTUP_TIMEOUT_SECONDS = 10.0


@dataclass
class RunningServer:
    """A uvicorn server serving in a daemon thread; `stop()` shuts it down and joins the thread."""

    url: str
    host: str
    port: int
    _server: uvicorn.Server
    _thread: threading.Thread

    def stop(self, timeout: float = 5.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)
        if self._thread.is_alive():
            logger.warning("server at %s did not stop within %.1f s", self.url, timeout)
        else:
            logger.info("stopped server at %s", self.url)

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_app_in_thread(app: Any, host: str = "127.0.0.1", port: int = 0) -> RunningServer:
    """Serve an ASGI app with uvicorn in a daemon thread and wait until it accepts connections.

    Port 0 picks a free port; the chosen one is in `.port` and `.url`. Raises RuntimeError
    when the server has not started within STARTUP_TIMEOUT_SECONDS.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_port = sock.getsockname()[1]

    # A short graceful-shutdown limit, because a request the emulator delays on purpose
    # would otherwise hold `stop()` until the delay ends.
    config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=1, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"uvicorn-{bound_port}", daemon=True
    )
    thread.start()

    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise RuntimeError(f"server on {host}:{bound_port} failed to start within {STARTUP_TIMEOUT_SECONDS} s")
        time.sleep(0.01)

    url = f"http://{host}:{bound_port}"
    logger.info("started server at %s", url)
    return RunningServer(url=url, host=host, port=bound_port, _server=server, _thread=thread)


def start_emulator_in_thread(
    config: EmulatorConfig | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    clock: Callable[[], float] = time.time,
) -> RunningServer:
    """Start the WeCom emulator in a background thread; its API base is `url + "/cgi-bin/"`."""
    app = create_emulator_app(config or EmulatorConfig(), clock=clock)
    return start_app_in_thread(app, host=host, port=port)


class EmulatorInspector:
    """A client of the emulator's inspection API (`/emulator/api/...`)."""

    def __init__(self, base_url: str, http: httpx.Client | None = None, poll_interval: float = 0.05) -> None:
        self._base_url = base_url.rstrip("/")
        self._http = http or httpx.Client(timeout=5.0)
        self._poll_interval = poll_interval

    def _url(self, path: str) -> str:
        return f"{self._base_url}/emulator/api/{path}"

    def messages(self, touser: str | None = None, after: int = 0) -> list[dict[str, Any]]:
        """Return delivered messages with an id greater than `after`, oldest first."""
        params: dict[str, str | int] = {"after": after}
        if touser is not None:
            params["touser"] = touser
        response = self._http.get(self._url("messages"), params=params)
        response.raise_for_status()
        return response.json()["messages"]

    def dropped(self, touser: str | None = None) -> list[dict[str, Any]]:
        """Return the messages the emulator dropped for exceeding a per-member rate limit."""
        params = {"touser": touser} if touser is not None else {}
        response = self._http.get(self._url("dropped"), params=params)
        response.raise_for_status()
        return response.json()["messages"]

    def stats(self) -> dict[str, int]:
        """Return request counters, such as `gettoken_calls`."""
        response = self._http.get(self._url("stats"))
        response.raise_for_status()
        return response.json()

    def wait_for_messages(
        self, touser: str, count: int, after: int = 0, timeout: float = 10.0
    ) -> list[dict[str, Any]]:
        """Poll until `touser` has at least `count` messages after `after`; return them.

        Raises TimeoutError naming the user and the counts when they do not arrive in time.
        """
        deadline = time.monotonic() + timeout
        while True:
            found = self.messages(touser=touser, after=after)
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"expected {count} messages for {touser!r} after id {after}, got {len(found)} in {timeout} s"
                )
            time.sleep(self._poll_interval)

    def conversation(self, user: str, after: int = 0) -> list[dict[str, Any]]:
        """Return what `user` sent (`direction` "in") and received ("out") after id `after`, oldest first."""
        response = self._http.get(self._url("conversation"), params={"user": user, "after": after})
        response.raise_for_status()
        return response.json()["messages"]

    def card(self, task_id: str) -> dict[str, Any]:
        """Return a sent card's state: recipients, clicks, `updated` and `replace_name`, and its content."""
        response = self._http.get(self._url(f"cards/{quote(task_id, safe='')}"))
        response.raise_for_status()
        return response.json()

    def chats(self) -> dict[str, list[dict[str, Any]]]:
        """Return `{"appchats": [...], "robots": [...]}`, each entry with a `message_count`."""
        response = self._http.get(self._url("chats"))
        response.raise_for_status()
        return response.json()

    def chat_messages(self, chatid: str, after: int = 0) -> list[dict[str, Any]]:
        """Return the messages an app group chat received after id `after`, oldest first."""
        response = self._http.get(self._url(f"chats/{quote(chatid, safe='')}/messages"), params={"after": after})
        response.raise_for_status()
        return response.json()["messages"]

    def robot_messages(self, key: str, after: int = 0) -> list[dict[str, Any]]:
        """Return the messages the group robot with webhook key `key` posted after id `after`."""
        response = self._http.get(self._url(f"robots/{quote(key, safe='')}/messages"), params={"after": after})
        response.raise_for_status()
        return response.json()["messages"]

    def media(self, media_id: str) -> bytes:
        """Return an uploaded file's bytes; raises httpx.HTTPStatusError (404) once it expired."""
        response = self._http.get(self._url(f"media/{quote(media_id, safe='')}"))
        response.raise_for_status()
        return response.content

    def send_text(self, user: str, text: str) -> httpx.Response:
        """Post a text as `user` through the bot's encrypted callback, as the page does."""
        return self._http.post(self._url("device/text"), json={"user": user, "text": text})

    def click_card(self, user: str, task_id: str, button_key: str) -> httpx.Response:
        """Tap button `button_key` on card `task_id` as `user`, as a person on the page would.

        The emulator issues a fresh response code and posts an encrypted `template_card_event`
        to the bot's callback. The JSON body has the callback's `status_code` and the
        `response_code`. Status 404, 403, 400 or 409 means no such card, not this user's card,
        no such button, or a card already updated.
        """
        return self._http.post(
            self._url("device/card_click"), json={"user": user, "task_id": task_id, "button_key": button_key}
        )

    def reset(self) -> None:
        """Clear messages, cards, counters, faults and rate windows; tokens, media and group chats stay."""
        self._http.post(self._url("reset")).raise_for_status()

    def inject_fault(
        self,
        path: str = "message/send",
        *,
        errcode: int | None = None,
        errmsg: str | None = None,
        delay_seconds: float | None = None,
        count: int = 1,
    ) -> None:
        """Make the next `count` requests to `/cgi-bin/<path>` fail with `errcode` or be delayed.

        Every `/cgi-bin/` path takes faults: gettoken, message/send, message/update_template_card,
        media/upload, appchat/create, appchat/send, webhook/send and webhook/upload_media.

        A delayed request without an errcode is still handled after the delay, as by a slow
        WeCom, so a client that timed out may find its message delivered all the same.
        """
        body: dict[str, Any] = {"path": path, "count": count}
        if errcode is not None:
            body["errcode"] = errcode
        if errmsg is not None:
            body["errmsg"] = errmsg
        if delay_seconds is not None:
            body["delay_seconds"] = delay_seconds
        self._http.post(self._url("faults"), json=body).raise_for_status()

    def close(self) -> None:
        self._http.close()
