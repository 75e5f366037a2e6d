"""The bot's typed sender to WeCom, built on wechatpy's enterprise client.

`WeComClient` is what the rest of the bot calls. It returns WeCom's errcodes in a `SendResult`
so that an outbox can store them and decide: retry -1 (system busy), back off on 45009/45033,
give up on the rest. Only transport failures raise, as `WeComUnavailable`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from wechatpy.enterprise import WeChatClient
from wechatpy.exceptions import WeChatClientException

from bot.settings import Settings
from bot.stores import KeyValueStore
from bot.wecom.text import split_text
from bot.wecom.token_cache import AccessTokenCache, TokenRefreshTimeout

logger = logging.getLogger(__name__)

INVALID_ACCESS_TOKEN = 40014
EXPIRED_ACCESS_TOKEN = 42001
TOKEN_ERRCODES = frozenset({INVALID_ACCESS_TOKEN, EXPIRED_ACCESS_TOKEN})


class WeComUnavailable(Exception):
    """Raised when WeCom could not be reached or returned no usable response (timeout, refused, HTTP error)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class SendResult:
    """The response to one message/send call; `ok` means errcode 0."""

    ok: bool
    errcode: int
    errmsg: str
    msgid: str | None
    invalid_users: tuple[str, ...] = ()

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> SendResult:
        errcode = int(body.get("errcode", 0))
        invalid = str(body.get("invaliduser") or "")
        return cls(
            ok=errcode == 0,
            errcode=errcode,
            errmsg=str(body.get("errmsg", "")),
            msgid=body.get("msgid") or None,
            invalid_users=tuple(user for user in invalid.split("|") if user),
        )


@dataclass(frozen=True)
class MediaResult:
    """The response to one media/upload call."""

    ok: bool
    errcode: int
    errmsg: str
    media_id: str | None


class WeComApiClient(WeChatClient):
    """wechatpy's enterprise client aimed at a configurable API base, with an HTTP timeout on every call.

    wechatpy's own retry on token errors is turned off (`auto_retry=False`) because in wechatpy
    1.8.18 it refreshes and retries again for as long as WeCom keeps rejecting the token.
    `WeComClient` refreshes and retries exactly once instead. The token lives in
    an `AccessTokenCache` rather than in wechatpy's session storage.
    """

    def __init__(
        self, corp_id: str, secret: str, api_base: str, token_cache: AccessTokenCache, timeout_seconds: float
    ) -> None:
        super().__init__(corp_id, secret, timeout=timeout_seconds, auto_retry=False)
        self.API_BASE_URL = api_base if api_base.endswith("/") else api_base + "/"
        self.token_cache = token_cache

    def fetch_access_token(self) -> dict[str, Any]:
        """Request a new token from `<api base>gettoken` and return the JSON response, uncached.

        wechatpy hardcodes the real gettoken URL, so this replaces it. Raises
        WeChatClientException for a non-zero errcode or an HTTP error status, and requests'
        exceptions for transport failures.
        """
        response = self._http.get(
            self.API_BASE_URL + "gettoken",
            params={"corpid": self.corp_id, "corpsecret": self.secret},
            timeout=self.timeout,
        )
        try:
            response.raise_for_status()
            result = response.json()
        except (requests.HTTPError, ValueError) as error:
            raise WeChatClientException(None, f"gettoken failed: {error}", client=self, response=response) from error
        if result.get("errcode", 0) != 0:
            raise WeChatClientException(
                result["errcode"], result.get("errmsg", ""), client=self, request=response.request, response=response
            )
        return result

    def _fetch_token_pair(self) -> tuple[str, int]:
        result = self.fetch_access_token()
        return result["access_token"], int(result.get("expires_in", 7200))

    @property
    def access_token(self) -> str:
        return self.token_cache.get_or_fetch(self._fetch_token_pair)

    def refresh_access_token(self, stale: str) -> str:
        """Return a token other than `stale`, fetched unless another caller already did."""
        return self.token_cache.refresh(self._fetch_token_pair, stale=stale)


def _error_body(error: WeChatClientException) -> dict[str, Any]:
    """Return the JSON response behind a wechatpy exception, to keep fields like invaliduser."""
    try:
        body = error.response.json()
    except (AttributeError, ValueError):
        body = None
    if isinstance(body, dict) and "errcode" in body:
        return body
    return {"errcode": error.errcode, "errmsg": error.errmsg or ""}


class WeComClient:
    """Sends app messages through WeCom's message/send API.

    Each instance owns a requests session, so give each worker thread its own instance. The
    instances share the access token through the store.
    """

    def __init__(
        self,
        corp_id: str,
        secret: str,
        agent_id: int,
        api_base: str,
        store: KeyValueStore,
        timeout_seconds: float = 5.0,
    ) -> None:
        self.agent_id = agent_id
        self.token_cache = AccessTokenCache(store, corp_id, agent_id, lock_ttl_seconds=timeout_seconds + 10)
        self.api = WeComApiClient(corp_id, secret, api_base, self.token_cache, timeout_seconds)

    @classmethod
    def from_settings(cls, settings: Settings, store: KeyValueStore) -> WeComClient:
        return cls(
            corp_id=settings.wecom_corp_id,
            secret=settings.wecom_secret,
            agent_id=settings.wecom_agent_id,
            api_base=settings.wecom_api_base,
            store=store,
            timeout_seconds=settings.http_timeout_seconds,
        )

    def close(self) -> None:
        """Close the HTTP session's pooled connections."""
        self.api._http.close()

    def __enter__(self) -> WeComClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def send_text(self, touser: str, content: str) -> SendResult:
        """Send a text message to `touser` ("a|b" for several members).

        Content over 2,048 UTF-8 bytes goes out as several messages split by `split_text`.
        Returns the last part's result; when a part fails, the later parts are not sent and
        that failure is returned. Callers that retry failed sends should split first and
        send each part through its own outbox row, so a retry does not repeat earlier parts.
        """
        result: SendResult | None = None
        for part in split_text(content):
            result = self.send_message(touser, {"msgtype": "text", "text": {"content": part}})
            if not result.ok:
                break
        assert result is not None  # split_text returns at least one part
        return result

    def send_message(self, touser: str, message: dict[str, Any]) -> SendResult:
        """Send one message of any type: `message` contains `msgtype` and that type's object."""
        data = {"touser": touser, "agentid": self.agent_id, **message}
        return SendResult.from_body(self._post("message/send", data))

    def upload_media(self, media_type: str, path: str) -> MediaResult:
        """Upload a temporary file (`image`, `file`, `voice`, `video`) for a later message.

        WeCom keeps a media id for 3 days, so callers upload right before sending.
        """
        with open(path, "rb") as media:
            body = self._post("media/upload", None, params={"type": media_type}, files={"media": media})
        return MediaResult(
            ok=int(body.get("errcode", 0)) == 0, errcode=int(body.get("errcode", 0)),
            errmsg=str(body.get("errmsg", "")), media_id=body.get("media_id") or None,
        )

    def update_template_card(self, userids: list[str], response_code: str, replace_name: str) -> SendResult:
        """Grey out a button card for `userids`, showing `replace_name`; a response code works once."""
        data = {
            "userids": userids,
            "agentid": self.agent_id,
            "response_code": response_code,
            "button": {"replace_name": replace_name},
        }
        return SendResult.from_body(self._post("message/update_template_card", data))

    def _post(
        self, endpoint: str, data: dict[str, Any] | None, *, params: dict[str, Any] | None = None, files=None
    ) -> dict[str, Any]:
        """POST with the cached token; on 40014/42001 refresh it once and retry once."""
        token = self._call_for_token(lambda: self.api.access_token)
        if isinstance(token, dict):
            return token

        for attempt in (1, 2):
            try:
                if files:
                    for handle in files.values():
                        handle.seek(0)
                result = self.api.post(
                    endpoint, data=dict(data) if data is not None else None,
                    params={**(params or {}), "access_token": token}, files=files,
                )
            except WeChatClientException as error:
                body = self._body_or_raise(error, endpoint)
                if body["errcode"] in TOKEN_ERRCODES and attempt == 1:
                    logger.info("%s returned errcode %s, so refreshing the access token and retrying once", endpoint, body["errcode"])
                    stale = token
                    token = self._call_for_token(lambda: self.api.refresh_access_token(stale))
                    if isinstance(token, dict):
                        return token
                    continue
                logger.warning("%s failed: errcode %s %s", endpoint, body["errcode"], body.get("errmsg", ""))
                return body
            except requests.RequestException as error:
                raise WeComUnavailable(f"{endpoint} request failed: {error}") from error

            if not isinstance(result, dict):
                raise WeComUnavailable(f"{endpoint} returned a response body that is not JSON")
            return result

        raise AssertionError("unreachable: the second attempt always returns")

    def _call_for_token(self, get_token: Callable[[], str]) -> str | dict[str, Any]:
        """Return a token, or gettoken's error body when WeCom rejects the credentials."""
        try:
            return get_token()
        except WeChatClientException as error:
            body = self._body_or_raise(error, "gettoken")
            logger.warning("gettoken failed: errcode %s %s", body["errcode"], body.get("errmsg", ""))
            return body
        except requests.RequestException as error:
            raise WeComUnavailable(f"gettoken request failed: {error}") from error
        except TokenRefreshTimeout as error:
            raise WeComUnavailable(str(error)) from error

    @staticmethod
    def _body_or_raise(error: WeChatClientException, endpoint: str) -> dict[str, Any]:
        # wechatpy reports an HTTP error status with errcode None, which is a transport failure.
        if error.errcode is None:
            status = getattr(error.response, "status_code", "unknown")
            raise WeComUnavailable(f"{endpoint} returned HTTP status {status}") from error
        return _error_body(error)
