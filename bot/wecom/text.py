"""Splitting long text into pieces that fit WeCom's text message limit."""

from __future__ import annotations

# WeCom's limit on `text.content` (and markdown) in message/send, in bytes of UTF-8.
TEXT_MAX_BYTES = 2048


def _utf8_size(text: str) -> int:
    return len(text.encode("utf-8"))


def _split_line(line: str, max_bytes: int) -> list[str]:
    """Cut one line into pieces of at most `max_bytes`, never inside a character."""
    if _utf8_size(line) <= max_bytes:
        return [line]
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for char in line:
        char_size = _utf8_size(char)
        if size + char_size > max_bytes:
            pieces.append("".join(current))
            current, size = [], 0
        current.append(char)
        size += char_size
    pieces.append("".join(current))
    return pieces


def split_text(content: str, max_bytes: int = TEXT_MAX_BYTES) -> list[str]:
    """Split text into pieces of at most `max_bytes` UTF-8 bytes, on line boundaries.

    Lines are packed greedily; the newline where a cut falls is dropped because the message
    boundary replaces it. A single line longer than the limit is cut between characters.
    Text that fits, including empty text, comes back as one piece.
    """
    if _utf8_size(content) <= max_bytes:
        return [content]

    parts: list[str] = []
    current: list[str] = []
    size = 0
    for line in content.split("\n"):
        for piece in _split_line(line, max_bytes):
            piece_size = _utf8_size(piece)
            added = piece_size + 1 if current else piece_size
            if current and size + added > max_bytes:
                parts.append("\n".join(current))
                current, size = [piece], piece_size
            else:
                current.append(piece)
                size += added
    parts.append("\n".join(current))
    return parts
