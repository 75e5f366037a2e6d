"""Temporary media in the emulator: media/upload, image and file messages, 3-day expiry."""

from collections.abc import Iterator

import httpx
import pytest

from bot.emulator import (
    EmulatorConfig,
    ManualClock,
    RunningServer,
    start_emulator_in_thread,
)
from bot.emulator.media import PNG_SIGNATURE, parse_multipart
from tests.unit.test_emulator import AGENT_ID, get_token
from tests.unit.test_emulator_cards import (  # noqa: F401
    http_fixture,
    inspector_fixture,
    token_fixture,
)

MEGABYTE = 1024 * 1024
THREE_DAYS = 3 * 24 * 3600
FAKE_PNG = PNG_SIGNATURE + b"\x00\x00\x00\rIHDR" + bytes(range(200))


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def emulator(clock: ManualClock) -> Iterator[RunningServer]:
    server = start_emulator_in_thread(EmulatorConfig(), clock=clock)
    yield server
    server.stop()


def upload(
    http: httpx.Client,
    token: str | None,
    media_type: str,
    data: bytes,
    filename: str = "chart.png",
    content_type: str = "image/png",
) -> dict:
    params = {"type": media_type}
    if token is not None:
        params["access_token"] = token
    files = {"media": (filename, data, content_type)}
    return http.post("/cgi-bin/media/upload", params=params, files=files).json()


def send_media(http: httpx.Client, token: str, msgtype: str, media_id: str | None, touser: str = "zhangwei") -> dict:
    body = {} if media_id is None else {"media_id": media_id}
    payload = {"touser": touser, "msgtype": msgtype, "agentid": AGENT_ID, msgtype: body}
    return http.post("/cgi-bin/message/send", params={"access_token": token}, json=payload).json()


# media/upload


def test_upload_image_returns_documented_shape(http, token, inspector, clock):
    body = upload(http, token, "image", FAKE_PNG)

    assert body["errcode"] == 0
    assert body["type"] == "image"
    assert body["media_id"]
    assert body["created_at"] == str(int(clock()))
    assert inspector.media(body["media_id"]) == FAKE_PNG


def test_upload_keeps_binary_bytes_and_chinese_filename(http, token, inspector):
    data = b"PK\x03\x04\r\n\r\n--boundary\r\n" + bytes(range(256)) * 4

    body = upload(http, token, "file", data, filename="报价单-华东建材.xlsx", content_type="application/vnd.ms-excel")
    response = http.get(f"/emulator/api/media/{body['media_id']}")

    assert body["errcode"] == 0
    assert inspector.media(body["media_id"]) == data
    assert response.headers["content-type"] == "application/vnd.ms-excel"
    assert "attachment" in response.headers["content-disposition"]


@pytest.mark.parametrize(
    ("media_type", "data", "errcode"),
    [
        ("spreadsheet", b"123456", 40005),
        (None, b"123456", 40005),
        ("file", b"12345", 40006),
        ("file", b"123456", 0),
        ("image", b"GIF89a" + bytes(100), 40004),
        ("image", PNG_SIGNATURE + bytes(2 * MEGABYTE - len(PNG_SIGNATURE)), 0),
        ("image", PNG_SIGNATURE + bytes(2 * MEGABYTE), 40009),
        ("image", b"\xff\xd8\xff\xe0" + bytes(100), 0),
    ],
)
def test_upload_rules(http, token, media_type, data, errcode):
    params = {"access_token": token}
    if media_type is not None:
        params["type"] = media_type
    files = {"media": ("upload.bin", data, "application/octet-stream")}

    body = http.post("/cgi-bin/media/upload", params=params, files=files).json()

    assert body["errcode"] == errcode


def test_upload_file_over_20_mb_is_40006(http, token):
    assert upload(http, token, "file", bytes(20 * MEGABYTE), "a.bin")["errcode"] == 0
    assert upload(http, token, "file", bytes(20 * MEGABYTE + 1), "b.bin")["errcode"] == 40006


def test_upload_without_file_part_is_44001(http, token):
    body = http.post(
        "/cgi-bin/media/upload", params={"access_token": token, "type": "file"}, data={"note": "no file here"}
    ).json()

    assert body["errcode"] == 44001


def test_upload_needs_a_token(http):
    assert upload(http, None, "image", FAKE_PNG)["errcode"] == 41001


def test_parse_multipart_prefers_media_field():
    body = (
        b"--xyz\r\nContent-Disposition: form-data; name=\"other\"; filename=\"a.txt\"\r\n\r\nother\r\n"
        b"--xyz\r\nContent-Disposition: form-data; name=\"media\"; filename=\"b.txt\"\r\n"
        b"Content-Type: text/plain\r\n\r\nwanted\r\n--xyz--\r\n"
    )

    upload_part = parse_multipart("multipart/form-data; boundary=xyz", body)

    assert upload_part is not None
    assert upload_part.filename == "b.txt"
    assert upload_part.content_type == "text/plain"
    assert upload_part.data == b"wanted"


def test_parse_multipart_rejects_other_bodies():
    assert parse_multipart("application/json", b"{}") is None
    assert parse_multipart("multipart/form-data", b"--x--") is None


# Image and file messages


def test_image_message_records_media(http, token, inspector):
    media_id = upload(http, token, "image", FAKE_PNG)["media_id"]

    body = send_media(http, token, "image", media_id)
    message = inspector.messages()[0]

    assert body["errcode"] == 0
    assert message["msgtype"] == "image"
    assert message["content"] == {"media_id": media_id}
    assert message["media"]["media_id"] == media_id
    assert message["media"]["type"] == "image"
    assert message["media"]["size"] == len(FAKE_PNG)


def test_file_message_takes_any_media(http, token, inspector):
    image_id = upload(http, token, "image", FAKE_PNG)["media_id"]
    file_id = upload(http, token, "file", b"%PDF-1.7 contract", "合同.pdf", "application/pdf")["media_id"]

    assert send_media(http, token, "file", file_id)["errcode"] == 0
    assert send_media(http, token, "file", image_id)["errcode"] == 0
    assert inspector.messages()[0]["media"]["filename"] == "合同.pdf"


def test_image_message_with_file_media_is_40007(http, token):
    file_id = upload(http, token, "file", b"%PDF-1.7 contract", "合同.pdf", "application/pdf")["media_id"]

    assert send_media(http, token, "image", file_id)["errcode"] == 40007


@pytest.mark.parametrize(("media_id", "errcode"), [("no-such-media", 40007), (None, 41006), ("", 41006)])
def test_image_message_with_bad_media_id(http, token, inspector, media_id, errcode):
    assert send_media(http, token, "image", media_id)["errcode"] == errcode
    assert inspector.messages() == []


def test_media_expires_after_3_days(http, token, inspector, clock):
    media_id = upload(http, token, "image", FAKE_PNG)["media_id"]

    clock.advance(THREE_DAYS - 1)
    token = get_token(http)["access_token"]
    assert send_media(http, token, "image", media_id)["errcode"] == 0
    clock.advance(1)
    assert send_media(http, token, "image", media_id)["errcode"] == 40007
    with pytest.raises(httpx.HTTPStatusError):
        inspector.media(media_id)


def test_media_survives_reset(http, token, inspector):
    media_id = upload(http, token, "image", FAKE_PNG)["media_id"]

    inspector.reset()

    assert send_media(http, token, "image", media_id)["errcode"] == 0
