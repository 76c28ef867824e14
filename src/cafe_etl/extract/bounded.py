"""A raw stream whose over-long lines are cut out, so memory is bounded by a setting, not by
what a file holds: no real record is a megabyte long, yet one 100 MB line would be held
whole by any parser.

Each physical line longer than ``LINE_BYTES`` (wherever it falls) becomes a line holding only
``MARKER`` (a NUL byte, which no real export holds): it is still one line, so line numbers
stay right, and the rules reject it as one row. Every other byte passes through unchanged.
"""

import io
from typing import BinaryIO

LINE_BYTES = 1 << 20
MARKER = "\x00"
_BLOCK = 1 << 20


class BoundedLines(io.RawIOBase):
    def __init__(self, stream: BinaryIO, limit: int = LINE_BYTES) -> None:
        self._stream = stream
        self._limit = limit
        self._out = memoryview(b"")
        self._tail = b""  # the line being read, not yet ended
        self._dropping = False  # inside an over-long line, up to its end
        self._done = False
        self.cut = 0
        """Lines cut out so far."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._out and not self._done:
            self._out = memoryview(self._next())
        size = min(len(buffer), len(self._out))
        buffer[:size] = self._out[:size]
        self._out = self._out[size:]
        return size

    def _next(self) -> bytes:
        """The next bytes to hand out (maybe none yet)."""
        block = self._stream.read(_BLOCK)
        if not block:
            self._done = True
            self.cut += self._dropping
            ended = MARKER.encode() if self._dropping else self._tail
            self._tail = b""
            return ended
        marker = b""
        end = _first_ending(block)
        if self._dropping or (end >= 0 and len(self._tail) + end > self._limit):
            if end < 0:
                return b""  # still inside the over-long line
            self._dropping, self._tail = False, b""
            marker, block = MARKER.encode(), block[end:]
            self.cut += 1  # the line's ending stays
        data = self._tail + block
        cut = max(data.rfind(b"\n"), data.rfind(b"\r")) + 1
        out, self._tail = data[:cut], data[cut:]
        if len(self._tail) > self._limit:
            self._tail, self._dropping = b"", True
        return marker + out


def _first_ending(block: bytes) -> int:
    found = [at for at in (block.find(b"\n"), block.find(b"\r")) if at >= 0]
    return min(found) if found else -1
