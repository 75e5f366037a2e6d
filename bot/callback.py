"""The WeCom callback: verify, decrypt, dedupe, store, and respond at once.

Everything else (understanding, records, replies) runs in the inbox workers after the response,
because WeCom retries a callback that takes more than 5 seconds.
"""

import logging
import time

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse
from starlette.concurrency import run_in_threadpool
from wechatpy.enterprise.exceptions import InvalidCorpIdException
from wechatpy.exceptions import InvalidSignatureException

from bot.inbox import store_message
from bot.runtime import Runtime
from bot.wecom_xml import MalformedXml, UnsafeXml, parse_flat_xml

log = logging.getLogger(__name__)

router = APIRouter()


def _runtime(request: Request) -> Runtime:
    return request.app.state.runtime


def _reject(status: int, reason: str, started: float) -> Response:
    log.warning("callback rejected: status=%d reason=%s ms=%.1f", status, reason, (time.perf_counter() - started) * 1000)
    return PlainTextResponse("", status_code=status)


@router.get("/wecom/callback")
def verify_url(request: Request, msg_signature: str = "", timestamp: str = "", nonce: str = "", echostr: str = ""):
    """Respond to WeCom's URL check with the decrypted echo string."""
    started = time.perf_counter()
    if not (msg_signature and timestamp and nonce and echostr):
        return _reject(400, "missing query parameter", started)
    try:
        echo = _runtime(request).crypto.check_signature(msg_signature, timestamp, nonce, echostr)
    except InvalidSignatureException:
        return _reject(403, "invalid signature", started)
    except InvalidCorpIdException:
        return _reject(403, "wrong corp id", started)
    except ValueError:
        return _reject(400, "undecryptable echostr", started)
    log.info("callback URL verified")
    return PlainTextResponse(echo)


@router.post("/wecom/callback")
async def receive(request: Request, msg_signature: str = "", timestamp: str = "", nonce: str = ""):
    """Store one encrypted callback message in the inbox and respond HTTP 200 with an empty body."""
    started = time.perf_counter()
    runtime = _runtime(request)
    limit = runtime.settings.max_callback_body_bytes

    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        return _reject(413, "body over limit", started)
    body = await request.body()
    if len(body) > limit:
        return _reject(413, "body over limit", started)
    if not (msg_signature and timestamp and nonce):
        return _reject(400, "missing query parameter", started)

    # The crypto and the database calls block, so they run off the event loop.
    return await run_in_threadpool(_decrypt_and_store, runtime, body, msg_signature, timestamp, nonce, started)


def _decrypt_and_store(runtime: Runtime, body: bytes, signature: str, timestamp: str, nonce: str, started: float):
    try:
        envelope = parse_flat_xml(body)
        if not envelope.get("Encrypt"):
            raise MalformedXml("no Encrypt element")
        plain = runtime.crypto.decrypt_message({"Encrypt": envelope["Encrypt"]}, signature, timestamp, nonce)
        fields = parse_flat_xml(plain)
    except UnsafeXml as exc:
        return _reject(400, f"unsafe xml ({exc})", started)
    except MalformedXml:
        return _reject(400, "malformed xml", started)
    except InvalidSignatureException:
        return _reject(403, "invalid signature", started)
    except InvalidCorpIdException:
        return _reject(403, "wrong corp id", started)
    except (ValueError, IndexError, TypeError):
        # Bad base64, bad padding or a bad length prefix inside the ciphertext.
        return _reject(400, "undecryptable body", started)

    # WeCom's customer-service event names the account, not a sender.
    if fields.get("Event") == "kf_msg_or_event" and not fields.get("FromUserName"):
        fields["FromUserName"] = fields.get("OpenKfId", "")
    if not fields.get("FromUserName") or not fields.get("MsgType"):
        return _reject(400, "message without sender or type", started)

    message_id = store_message(runtime.db, fields)
    elapsed_ms = (time.perf_counter() - started) * 1000
    if message_id is None:
        log.info("callback duplicate ignored: type=%s ms=%.1f", fields.get("MsgType"), elapsed_ms)
    else:
        log.info("callback stored: inbox_id=%d type=%s ms=%.1f", message_id, fields.get("MsgType"), elapsed_ms)
        runtime.inbox_signal.set()
    return Response(status_code=200)
