"""Record a simulated run to a file, and play it back: the exact bytes, in the same order.

A recording is NDJSON (gzip-compressed when the name ends in `.gz`): a header line
`{"recording": "faultline-sim", "version": 1, "meta": {...}}`, then one line per MQTT
message, `{"at": 1764000060.0, "device_id": "fridge-0001", "channel": "telemetry",
"payload": {...}}`. Telemetry and event payloads are stored as the JSON that went on the
wire (byte for byte); a status payload as a JSON string, with `"retain": true`. The topic
prefix is not recorded: replay publishes under any prefix, at any speed.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import msgspec

from device_sim.messages import Outgoing
from domain.wire import Channel

FORMAT = "faultline-sim"
VERSION = 1


class RecordingError(ValueError):
    """A file that is not a recording this version can read."""


class _Line(msgspec.Struct, omit_defaults=True):
    at: float
    device_id: str
    channel: str
    payload: msgspec.Raw
    retain: bool = False


class _Header(msgspec.Struct):
    recording: str
    version: int
    meta: dict[str, Any] = {}


_encoder = msgspec.json.Encoder()
_line_decoder = msgspec.json.Decoder(_Line)
_header_decoder = msgspec.json.Decoder(_Header)
_RAW_CHANNELS = (Channel.TELEMETRY, Channel.EVENTS, Channel.COMMANDS)


def _open(path: Path, mode: str) -> IO[bytes]:
    if path.suffix == ".gz":
        # Level 1: recording must keep up with fast-forward generation.
        return gzip.open(path, mode + "b", compresslevel=1)  # type: ignore[return-value]
    return open(path, mode + "b")


def write_recording(
    path: str | Path, messages: Iterable[Outgoing], *, meta: Mapping[str, Any] | None = None
) -> int:
    """Write `messages` to `path` (gzip if it ends in .gz); returns how many were written."""
    path = Path(path)
    count = 0
    chunk: list[bytes] = []
    with _open(path, "w") as out:
        out.write(_encoder.encode(_Header(FORMAT, VERSION, dict(meta or {}))) + b"\n")
        for at, device_id, channel, payload, retain in messages:
            if channel not in _RAW_CHANNELS:
                payload = _encoder.encode(payload.decode())
            chunk.append(
                _encoder.encode(_Line(at, device_id, channel.value, msgspec.Raw(payload), retain))
            )
            count += 1
            if len(chunk) >= 4096:
                out.write(b"\n".join(chunk) + b"\n")
                chunk.clear()
        if chunk:
            out.write(b"\n".join(chunk) + b"\n")
    return count


def read_meta(path: str | Path) -> dict[str, Any]:
    """The metadata a recording was written with."""
    with _open(Path(path), "r") as src:
        return _header(src.readline(), path).meta


def read_recording(path: str | Path) -> Iterator[Outgoing]:
    """The recorded messages, in the recorded order (lazily: recordings can be large)."""
    path = Path(path)
    with _open(path, "r") as src:
        _header(src.readline(), path)
        for number, line in enumerate(src, start=2):
            if not line.strip():
                continue
            try:
                row = _line_decoder.decode(line)
                channel = Channel(row.channel)
            except (msgspec.DecodeError, ValueError) as exc:
                raise RecordingError(f"{path}:{number}: not a recorded message ({exc})") from exc
            payload = bytes(row.payload)
            if channel not in _RAW_CHANNELS:
                payload = msgspec.json.decode(payload, type=str).encode()
            yield Outgoing(row.at, row.device_id, channel, payload, row.retain)


def _header(line: bytes, path: str | Path) -> _Header:
    try:
        header = _header_decoder.decode(line)
    except msgspec.DecodeError:
        raise RecordingError(f"{path}: not a Faultline recording (no header line)") from None
    if header.recording != FORMAT or header.version != VERSION:
        raise RecordingError(
            f"{path}: a {header.recording!r} recording, version {header.version}; "
            f"this build reads {FORMAT!r} version {VERSION}"
        )
    return header
