"""Temporary media as WeCom keeps it: uploaded once, referenced by `media_id`, gone after 3 days.

`media/upload` (apps) and `webhook/upload_media` (group robots) store files here, and the
message paths look media ids up here. Limits follow WeCom's "上传临时素材" page: every file is
larger than 5 bytes, images are JPG or PNG, files are at most 20 MB.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

MEDIA_TTL_SECONDS = 3 * 24 * 3600
MIN_MEDIA_BYTES = 6
MEGABYTE = 1024 * 1024
# NOTE: WeCom's current "上传临时素材" page allows images of up to 10 MB through media/upload,
# but group robots take at most 2 MB. The emulator limits every image to 2 MB, so that an image
# accepted here is accepted on every path.
MAX_MEDIA_BYTES = {"image": 2 * MEGABYTE, "voice": 2 * MEGABYTE, "video": 10 * MEGABYTE, "file": 20 * MEGABYTE}
# The errcode WeCom's global list gives for a file of invalid size, per media type.
SIZE_ERRCODES = {"image": 40009, "voice": 40006, "video": 40011, "file": 40006}

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SIGNATURE = b"\xff\xd8\xff"


@dataclass(frozen=True)
class Media:
    """One uploaded file; `created_at` is Unix seconds on the emulator's clock."""

    media_id: str
    media_type: str
    filename: str
    content_type: str
    data: bytes
    created_at: float

    def metadata(self) -> dict[str, Any]:
        return {
            "media_id": self.media_id,
            "type": self.media_type,
            "filename": self.filename,
            "content_type": self.content_type,
            "size": len(self.data),
            "created_at": self.created_at,
        }


@dataclass(frozen=True)
class UploadedFile:
    """The file part of a multipart/form-data body."""

    filename: str
    content_type: str
    data: bytes


def parse_multipart(content_type: str, body: bytes) -> UploadedFile | None:
    """Return the part named `media` (WeCom's field name), else the first part with a filename.

    Returns None when the body is not multipart/form-data or has no file part. This small
    parser keeps the emulator free of python-multipart, which the project does not depend on.
    """
    media_type, _, params = content_type.partition(";")
    if media_type.strip().lower() != "multipart/form-data":
        return None
    boundary = _header_params(params).get("boundary")
    if not boundary:
        return None

    first_file: UploadedFile | None = None
    delimiter = b"--" + boundary.encode("latin-1")
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        head, separator, data = chunk.partition(b"\r\n\r\n")
        if not separator:
            continue
        data = data.removesuffix(b"\r\n")
        headers = _part_headers(head)
        disposition = _header_params(headers.get("content-disposition", "").partition(";")[2])
        if "filename" not in disposition and disposition.get("name") != "media":
            continue
        part = UploadedFile(
            filename=disposition.get("filename", ""),
            content_type=headers.get("content-type", "application/octet-stream"),
            data=data,
        )
        if disposition.get("name") == "media":
            return part
        first_file = first_file or part
    return first_file


def _part_headers(head: bytes) -> dict[str, str]:
    headers = {}
    for line in head.decode("utf-8", errors="replace").split("\r\n"):
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    return headers


def _header_params(text: str) -> dict[str, str]:
    params = {}
    for item in text.split(";"):
        name, equals, value = item.partition("=")
        if equals:
            params[name.strip().lower()] = value.strip().strip('"')
    return params


def is_jpg_or_png(data: bytes) -> bool:
    return data.startswith((PNG_SIGNATURE, JPEG_SIGNATURE))


def image_content_type(data: bytes) -> str:
    return "image/png" if data.startswith(PNG_SIGNATURE) else "image/jpeg"


class MediaStore:
    """Uploaded media by id. Callers hold the emulator's lock."""

    def __init__(self) -> None:
        self._media: dict[str, Media] = {}

    def check_upload(self, media_type: str | None, data: bytes) -> int:
        """Return 0 when `data` may be stored as `media_type`, else WeCom's errcode."""
        if media_type not in MAX_MEDIA_BYTES:
            return 40005
        if not data:
            return 44001
        if len(data) < MIN_MEDIA_BYTES or len(data) > MAX_MEDIA_BYTES[media_type]:
            return SIZE_ERRCODES[media_type]
        if media_type == "image" and not is_jpg_or_png(data):
            return 40004
        return 0

    def add(self, media_type: str, filename: str, content_type: str, data: bytes, now: float) -> Media:
        media = Media(secrets.token_urlsafe(32), media_type, filename, content_type, data, now)
        self._media[media.media_id] = media
        return media

    def get(self, media_id: str, now: float) -> Media | None:
        """Return the media while it is younger than 3 days, else None."""
        media = self._media.get(media_id)
        if media is None or now >= media.created_at + MEDIA_TTL_SECONDS:
            return None
        return media

    def lookup_for_message(self, msgtype: str, body: dict[str, Any], now: float) -> tuple[int, Media | None]:
        """Return (errcode, media) for an `image` or `file` message body that names a media_id.

        An image message needs media uploaded as an image; a file message takes any media.
        """
        media_id = body.get("media_id")
        if not isinstance(media_id, str) or not media_id:
            return 41006, None
        media = self.get(media_id, now)
        if media is None or (msgtype == "image" and media.media_type != "image"):
            return 40007, None
        return 0, media
