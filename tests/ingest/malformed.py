# SPDX-License-Identifier: MIT
"""Malformed payloads for ingest tests, each invalid by construction.

Every generator returns ``Case``s: a topic, a payload, and the reason prefixes the dead letter
may carry. The expectation comes from how the payload was built (a strict prefix of a
self-delimiting encoding, a field of the wrong type, a value outside the catalogue range ...),
never from running the product's decoder; the one exception is ``bit_flips``, which keeps
only the flipped payloads ``telemetry.decode`` rejects (a flipped bit in a value can still
decode to a valid batch).

Random cases use ``random.Random`` with a fixed seed; structured ones are hypothesis
strategies, which ``collect`` turns into plain lists for a flood.
"""

from __future__ import annotations

import json
import math
import random
import struct
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from telemetry import SIGNALS, Batch, DecodeError, Series, by_name, decode, encode, topics
from telemetry.batch import MAX_BASE_TIME_MS, MAX_SEQ, MAX_WINDOW_MS, MIN_BASE_TIME_MS
from telemetry.dtc import MAX_CODES, DtcSnapshot, encode_dtc

# Reason prefixes written by ingest/checks.py.
UNDECODABLE = "undecodable payload: "
DEVICE_MISMATCH = "device mismatch: "
UNKNOWN_DEVICE = "unknown device: "
VIN_MISMATCH = "vin mismatch: "
OUT_OF_RANGE = "out of range: "
FUTURE = "future timestamp: "
STALE = "stale timestamp: "
# Reasons of the pipeline's catch-alls: a payload that gets one found a bug, not a bad input.
CRASH_REASONS = ("internal error", "database refused")

MINUTE_MS = 60_000
DAY_MS = 86_400_000
# Samples of a "recent" batch end this long before generation: safely inside the window.
RECENT_MS = 10 * MINUTE_MS
# Future samples are at least this far ahead of generation; ingest allows 5 minutes, and the
# message arrives after it was generated (the margin covers a slow flood).
FUTURE_MARGIN_MS = 30 * MINUTE_MS
# Stale samples are at least this old at generation; the default readings policy keeps 400 days.
STALE_AGE_MS = 401 * DAY_MS

SIGNAL_NAMES = tuple(s.name for s in SIGNALS)
SIGNAL_IDS = frozenset(s.id for s in SIGNALS)
ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-"
VIN_ALPHABET = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
# Characters a device id may not hold. Not "\n": DEVICE_ID_RE ends in "$", which also
# matches before a final newline, so "dev\n" passes it today (as "P0301\n" passes DTC_RE).
ID_FORBIDDEN = "/ #+:*?é\t\x00\\'\""
NO_BRACE = bytes.maketrans(b"{", b"|")  # a payload without "{" can hold no JSON object
RAW = "@@raw@@"  # placeholder in a JSON document for text json.dumps cannot produce


@dataclass(frozen=True, slots=True)
class Case:
    """One malformed message and the reason prefixes its dead letter may start with."""

    category: str
    topic: str
    payload: bytes
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class JsonDoc:
    """A JSON document to render; ``raw`` replaces the RAW placeholder, ``tail`` is appended."""

    doc: Any
    reasons: tuple[str, ...]
    raw: bytes | None = None
    tail: bytes = b""


def telemetry_topic(device_id: str) -> str:
    return topics.topic(device_id, "telemetry")


def dtc_topic(device_id: str) -> str:
    return topics.topic(device_id, "dtc")


# --- rendering -------------------------------------------------------------------------------

_DUMPS: tuple[dict[str, Any], ...] = (
    {"separators": (",", ":")},
    {},
    {"indent": 1},
    {"separators": (",", ":"), "sort_keys": True},
    {"indent": "\t", "sort_keys": True},
    {"sort_keys": True},
)
_LEADS = (b"", b" ", b"\n", b"\r\n\t ")
JSON_VARIANTS = len(_DUMPS) * len(_LEADS)


def render_json(doc: JsonDoc, variant: int = 0) -> bytes:
    """The document as JSON; variants differ only in whitespace and key order."""
    text = json.dumps(doc.doc, **_DUMPS[variant % len(_DUMPS)]).encode()
    if doc.raw is not None:
        quoted = json.dumps(RAW).encode()
        assert text.count(quoted) == 1
        text = text.replace(quoted, doc.raw)
    return _LEADS[variant // len(_DUMPS) % len(_LEADS)] + text + doc.tail


def batch_doc(batch: Batch, seq: int | None = None) -> dict[str, Any]:
    """A batch as a v1 JSON document, values exactly as given (no quantisation)."""
    return {
        "v": 1,
        "device_id": batch.device_id,
        "seq": batch.seq if seq is None else seq,
        "vin": batch.vin,
        "base_time_ms": batch.base_time_ms,
        "signals": {s.signal: {"t": list(s.offsets_ms), "v": list(s.values)} for s in batch.series},
    }


def binary_fits(batch: Batch) -> bool:
    """Whether every value's counts fit the binary codec's i64 columns."""
    for s in batch.series:
        sig = by_name(s.signal)
        assert sig is not None
        if any(abs(v - sig.min) / sig.resolution >= 2**62 for v in s.values):
            return False
    return True


def batch_variants(batch: Batch, count: int) -> list[bytes]:
    """``count`` distinct encodings of one batch: binary (zlib or not) and JSON, varied seq."""
    forms: list[Callable[[int], bytes]] = [
        lambda seq: render_json(JsonDoc(batch_doc(batch, seq), ()), seq),
    ]
    if binary_fits(batch):
        forms += [
            lambda seq: encode(batch, seq=seq),
            lambda seq: encode(batch, compress=False, seq=seq),
        ]
    out = []
    for i in range(count):
        seq = (batch.seq + i // len(forms)) % (MAX_SEQ + 1)
        out.append(forms[i % len(forms)](seq))
    return out


def raw_binary(
    device: bytes,
    vin: bytes,
    seq: int,
    base_time_ms: int,
    heads: Iterable[tuple[int, int]],
    columns: Iterable[list[int]],
    *,
    compress: bool,
    version: int = 1,
    flags: int | None = None,
    trailing: bytes = b"",
) -> bytes:
    """A binary v1 payload written field by field, so any field can be wrong."""
    heads = list(heads)
    body = b"".join(
        [
            bytes([len(device)]),
            device,
            bytes([len(vin)]),
            vin,
            struct.pack("<QQH", seq, base_time_ms, len(heads)),
            *(struct.pack("<HI", sid, count) for sid, count in heads),
            *(struct.pack(f"<{len(col)}q", *col) for col in columns),
            trailing,
        ]
    )
    if compress:
        body = zlib.compress(body)
    if flags is None:
        flags = 1 if compress else 0
    return struct.pack("<2sBB", b"WL", version, flags) + body


# --- valid batches (the raw material) ---------------------------------------------------------


def max_counts(name: str) -> int:
    sig = by_name(name)
    assert sig is not None
    return int((sig.max - sig.min) / sig.resolution + 1e-9)


def in_range(name: str, counts: int) -> float:
    sig = by_name(name)
    assert sig is not None
    return min(max(sig.from_counts(counts), sig.min), sig.max)


def random_batch(
    rng: random.Random,
    device_id: str,
    vin: str,
    now_ms: int,
    *,
    seq: int | None = None,
    n: int | None = None,
) -> Batch:
    """A valid batch of recent samples: 1-5 signals, 1-20 samples each."""
    names = rng.sample(SIGNAL_NAMES, rng.randint(1, 5))
    n = rng.randint(1, 20) if n is None else n
    step = rng.randint(100, 5000)
    offsets = tuple(i * step for i in range(n))
    return Batch(
        device_id,
        rng.randrange(MAX_SEQ) if seq is None else seq,
        vin,
        now_ms - RECENT_MS - offsets[-1],
        tuple(
            Series(
                name,
                offsets,
                tuple(in_range(name, rng.randint(0, max_counts(name))) for _ in range(n)),
            )
            for name in names
        ),
    )


# --- random bytes, truncations, bit flips, binary faults (random.Random) -------------------


def random_bytes(rng: random.Random, length: int) -> bytes:
    """Bytes that are neither a binary batch (b'WL') nor hold any JSON object ('{')."""
    data = rng.randbytes(length).translate(NO_BRACE)
    if data[:2] == b"WL":
        data = b"X" + data[1:]
    return data


def random_length(rng: random.Random) -> int:
    roll = rng.random()
    if roll < 0.4:
        return rng.randint(0, 16)
    if roll < 0.85:
        return rng.randint(17, 256)
    return rng.randint(257, 4096)


def random_garbage(rng: random.Random, topic: str, count: int, category: str) -> list[Case]:
    """Random bytes of varied lengths, including a few beyond the 64 KiB dead-letter cap."""
    sizes = [random_length(rng) for _ in range(count)]
    for i, size in enumerate((65_535, 65_536, 65_537, 70_000, 100_000, 262_144, 1_000_000)):
        if i < count:
            sizes[i] = size
    return [Case(category, topic, random_bytes(rng, n), (UNDECODABLE,)) for n in sizes]


def magic_garbage(rng: random.Random, device_id: str, count: int) -> list[Case]:
    """b'WL' and a version/flags byte pair, then random bytes.

    Can random bytes after the magic decode? Only as a batch naming some device, and a random
    name is never the topic's device, so the outcome is undecodable or a device mismatch.
    """
    out = []
    for _ in range(count):
        version = 1 if rng.random() < 0.8 else rng.randrange(256)
        flags = rng.choice((0, 1, 1, rng.randrange(256)))
        head = struct.pack("<2sBB", b"WL", version, flags)
        out.append(
            Case(
                "magic",
                telemetry_topic(device_id),
                head + rng.randbytes(rng.randint(0, 512)),
                (UNDECODABLE, DEVICE_MISMATCH),
            )
        )
    return out


def bombs(device_id: str) -> list[Case]:
    """A zlib body inflating beyond 8 MiB and batches of more than 100,000 samples."""
    topic = telemetry_topic(device_id)
    device = device_id.encode()
    zeros = struct.pack("<2sBB", b"WL", 1, 1) + zlib.compress(bytes(9 * 1024 * 1024), 9)
    speed = by_name("speed_kmh")
    rpm = by_name("engine_rpm")
    assert speed is not None and rpm is not None
    base = 1_700_000_000_000

    def many(heads: list[tuple[int, int]]) -> bytes:
        # Offsets that stay at 0 (deltas of 0) are valid; only the count is too high.
        columns = [col for _, count in heads for col in ([0] * count, [1] + [0] * (count - 1))]
        return raw_binary(device, b"", 1, base, heads, columns, compress=True)

    payloads = [
        zeros,
        many([(speed.id, 100_001)]),
        many([(speed.id, 50_001), (rpm.id, 50_000)]),
    ]
    return [Case("bomb", topic, p, (UNDECODABLE,)) for p in payloads]


def truncations(
    rng: random.Random, device_id: str, vin: str, now_ms: int, target: int
) -> list[Case]:
    """Every strict prefix of valid encodings (binary, zlib binary, JSON).

    All three are self-delimiting (the binary reader must end exactly at the last column, a
    zlib stream must reach its end, a JSON object its closing brace), so no strict prefix is
    a batch.
    """
    topic = telemetry_topic(device_id)
    out: list[Case] = []
    while len(out) < target:
        batch = random_batch(rng, device_id, rng.choice(("", vin)), now_ms)
        for payload in (
            encode(batch, compress=False),
            encode(batch),
            render_json(JsonDoc(batch_doc(batch), ()), rng.randrange(len(_DUMPS))),
        ):
            out += [
                Case("truncated", topic, payload[:cut], (UNDECODABLE,))
                for cut in range(len(payload))
            ]
    return out


def bit_flips(rng: random.Random, device_id: str, vin: str, now_ms: int, target: int) -> list[Case]:
    """Valid encodings with 1-3 bits flipped, kept only when ``telemetry.decode`` rejects them.

    This is the one category that asks the product's decoder what to expect: a flip in a value
    column often yields another valid batch, which is not malformed.
    """
    topic = telemetry_topic(device_id)
    sources = []
    for _ in range(60):
        batch = random_batch(rng, device_id, rng.choice(("", vin)), now_ms)
        sources += [
            encode(batch, compress=False),
            encode(batch),
            render_json(JsonDoc(batch_doc(batch), ()), 0),
        ]
    out = []
    while len(out) < target:
        data = bytearray(rng.choice(sources))
        for _ in range(rng.randint(1, 3)):
            bit = rng.randrange(len(data) * 8)
            data[bit // 8] ^= 1 << (bit % 8)
        try:
            decode(bytes(data))
        except DecodeError:
            out.append(Case("bit flip", topic, bytes(data), (UNDECODABLE,)))
    return out


BINARY_FAULTS = (
    "version",
    "flags",
    "unknown signal",
    "duplicate signal",
    "trailing bytes",
    "device not utf-8",
    "device id invalid",
    "vin not ascii",
    "vin invalid",
    "seq beyond i64",
    "base time out of range",
    "offset negative",
    "offsets fall",
    "offset beyond window",
    "count too high",
    "count too low",
)


def binary_fault(rng: random.Random, device_id: str, vin: str, now_ms: int, fault: str) -> bytes:
    """A binary payload with exactly one structural fault, each one invalid by the schema."""
    batch = random_batch(rng, device_id, rng.choice(("", vin)), now_ms, n=rng.randint(2, 8))
    compress = rng.random() < 0.5
    device = device_id.encode()
    vin_b = batch.vin.encode()
    seq, base = batch.seq, batch.base_time_ms
    heads = []
    columns: list[list[int]] = []
    for s in batch.series:
        sig = by_name(s.signal)
        assert sig is not None
        heads.append((sig.id, len(s.values)))
        offsets = list(s.offsets_ms)
        counts = [sig.to_counts(v) for v in s.values]
        columns += [_deltas(offsets), _deltas(counts)]
    trailing = b""
    version, flags = 1, None
    if fault == "version":
        version = rng.choice((0, 2, 3, 255, rng.randrange(2, 256)))
    elif fault == "flags":
        flags = rng.randrange(2, 256)  # any bit but bit 0 is unknown
    elif fault == "unknown signal":
        heads[0] = (rng.choice([i for i in range(300) if i not in SIGNAL_IDS]), heads[0][1])
    elif fault == "duplicate signal":
        heads.append(heads[0])
        columns += columns[:2]
    elif fault == "trailing bytes":
        trailing = rng.randbytes(rng.randint(1, 64))
    elif fault == "device not utf-8":
        device = rng.choice((b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x80")) + device[:20]
    elif fault == "device id invalid":
        device = rng.choice(
            (
                b"",
                ("d" * rng.randint(65, 255)).encode(),
                device[:10] + rng.choice(ID_FORBIDDEN).encode() + device[10:],
            )
        )
    elif fault == "vin not ascii":
        vin_b = bytes(rng.randint(0x80, 0xFF) for _ in range(17))
    elif fault == "vin invalid":
        vin_b = rng.choice(
            (
                "".join(rng.choices(VIN_ALPHABET, k=rng.choice((1, 5, 16, 18, 40)))),
                "".join(rng.choices(VIN_ALPHABET, k=16)) + rng.choice("IOQioq-"),
                "".join(rng.choices("abcdefghjklmnprstuvwxyz", k=17)),
            )
        ).encode()
    elif fault == "seq beyond i64":
        seq = rng.randint(MAX_SEQ + 1, 2**64 - 1)
    elif fault == "base time out of range":
        base = rng.choice(
            (rng.randint(0, MIN_BASE_TIME_MS - 1), rng.randint(MAX_BASE_TIME_MS + 1, 2**64 - 1))
        )
    elif fault == "offset negative":
        columns[0][0] = -rng.randint(1, 10**6)
    elif fault == "offsets fall":
        columns[0][1] = -rng.randint(1, 10**6)  # the first offset is 0: the second is below it
    elif fault == "offset beyond window":
        columns[0][-1] += MAX_WINDOW_MS + 1
    elif fault == "count too high":
        heads[0] = (heads[0][0], heads[0][1] + rng.randint(1, 5))
    elif fault == "count too low":
        heads[0] = (heads[0][0], heads[0][1] - rng.randint(1, heads[0][1]))
    else:  # pragma: no cover
        raise AssertionError(fault)
    return raw_binary(
        device,
        vin_b,
        seq,
        base,
        heads,
        columns,
        compress=compress,
        version=version,
        flags=flags,
        trailing=trailing,
    )


def binary_faults(
    rng: random.Random, device_id: str, vin: str, now_ms: int, count: int
) -> list[Case]:
    topic = telemetry_topic(device_id)
    return [
        Case(
            "binary fault",
            topic,
            binary_fault(rng, device_id, vin, now_ms, BINARY_FAULTS[i % len(BINARY_FAULTS)]),
            (UNDECODABLE,),
        )
        for i in range(count)
    ]


def _deltas(values: list[int]) -> list[int]:
    return [b - a for a, b in zip([0, *values], values, strict=False)]


def unknown_devices(
    rng: random.Random, device_ids: list[str], now_ms: int, valid: int, garbage: int
) -> list[Case]:
    """Valid batches from unregistered devices, and random bytes on their topics."""
    out = []
    for i in range(valid):
        device_id = device_ids[i % len(device_ids)]
        batch = random_batch(rng, device_id, "", now_ms, seq=i)
        out.append(
            Case(
                "unknown device",
                telemetry_topic(device_id),
                batch_variants(batch, 3)[i % 3],
                (UNKNOWN_DEVICE,),
            )
        )
    for i in range(garbage):
        device_id = device_ids[i % len(device_ids)]
        payload = random_bytes(rng, random_length(rng))
        # Decoding comes before the device look-up today; either reason is right.
        out.append(
            Case(
                "unknown device garbage",
                telemetry_topic(device_id),
                payload,
                (UNDECODABLE, UNKNOWN_DEVICE),
            )
        )
    return out


def dtc_random(rng: random.Random, device_id: str, vin: str, now_ms: int, count: int) -> list[Case]:
    """Garbage on a dtc topic: random bytes (no '{', so no JSON object), strict prefixes of
    valid snapshots, and telemetry batches (binary: not JSON; JSON: no time_ms)."""
    topic = dtc_topic(device_id)
    out = [
        Case("dtc garbage", topic, random_bytes(rng, random_length(rng)), (UNDECODABLE,))
        for _ in range(count // 2)
    ]
    while len(out) < count * 9 // 10:
        codes = ["P0301", "P0420", "C0035", "B1234", "U0100", "P0171", "P0300"]
        snapshot = DtcSnapshot(
            device_id,
            rng.choice(("", vin)),
            now_ms,
            tuple(rng.sample(codes, rng.randint(0, 4))),
            tuple(rng.sample(codes, rng.randint(0, 3))),
            tuple(rng.sample(codes, rng.randint(0, 2))),
        )
        payload = encode_dtc(snapshot)
        out += [
            Case("dtc truncated", topic, payload[:cut], (UNDECODABLE,))
            for cut in range(len(payload))
        ]
    while len(out) < count:
        batch = random_batch(rng, device_id, "", now_ms)
        for payload in batch_variants(batch, 3):
            out.append(Case("dtc telemetry batch", topic, payload, (UNDECODABLE,)))
    return out[:count]


# --- hypothesis strategies --------------------------------------------------------------------

NAN_INF = st.sampled_from([math.nan, math.inf, -math.inf])
SMALL_LIST = st.lists(st.integers(-5, 5), max_size=3)
SMALL_DICT = st.dictionaries(st.text(max_size=4), st.integers(-5, 5), max_size=2)
NOT_STR = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), SMALL_LIST, SMALL_DICT)
# Not an int (bool is an int to Python, so fields that reject bools add them themselves).
NOT_INT = st.one_of(st.none(), st.floats(), st.text(max_size=8), SMALL_LIST, SMALL_DICT)
NOT_NUMBER = st.one_of(
    st.none(), st.booleans(), st.text(max_size=8), SMALL_LIST, SMALL_DICT, NAN_INF
)
NOT_LIST = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8), SMALL_DICT
)
NOT_DICT = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8), SMALL_LIST
)
# Ints that overflow a float are not finite numbers; smaller ones are merely out of range.
FLOAT_OVERFLOW = st.integers(2**1030, 2**4000)
BEYOND_ANY_RANGE = st.one_of(st.integers(10**12, 2**1000), st.floats(1e12, 1e308))


def valid_id(exclude: str) -> st.SearchStrategy[str]:
    return st.text(ID_ALPHABET, min_size=1, max_size=64).filter(lambda s: s != exclude)


def invalid_id() -> st.SearchStrategy[str]:
    return st.one_of(
        st.just(""),
        st.text(ID_ALPHABET, min_size=65, max_size=80),
        st.tuples(
            st.text(ID_ALPHABET, max_size=20),
            st.sampled_from(ID_FORBIDDEN),
            st.text(ID_ALPHABET, max_size=20),
        ).map("".join),
    )


def invalid_vin() -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(VIN_ALPHABET, min_size=1, max_size=16),
        st.text(VIN_ALPHABET, min_size=18, max_size=30),
        st.tuples(st.text(VIN_ALPHABET, min_size=16, max_size=16), st.sampled_from("IOQioqa-")).map(
            "".join
        ),
    )


@st.composite
def recent_series(draw: st.DrawFn, now_ms: int) -> tuple[int, dict[str, dict[str, list]]]:
    """(base time, {signal: {"t": offsets, "v": in-range values}}) of recent samples."""
    names = draw(st.lists(st.sampled_from(SIGNAL_NAMES), min_size=1, max_size=4, unique=True))
    n = draw(st.integers(1, 6))
    step = draw(st.integers(0, 5000))
    offsets = [i * step for i in range(n)]
    signals = {
        name: {
            "t": list(offsets),
            "v": [in_range(name, draw(st.integers(0, max_counts(name)))) for _ in range(n)],
        }
        for name in names
    }
    return now_ms - RECENT_MS - offsets[-1], signals


@st.composite
def json_wrong_types(draw: st.DrawFn, device_id: str, vin: str, now_ms: int) -> JsonDoc:
    """A valid JSON batch with exactly one thing wrong: a type, a key, a length, a range."""
    base, signals = draw(recent_series(now_ms))
    doc: dict[str, Any] = {
        "v": 1,
        "device_id": device_id,
        "seq": draw(st.integers(0, MAX_SEQ)),
        "vin": draw(st.sampled_from(("", vin))),
        "base_time_ms": base,
        "signals": signals,
    }
    name = draw(st.sampled_from(sorted(signals)))
    col = signals[name]
    n = len(col["t"])
    i = draw(st.integers(0, n - 1))
    kind = draw(st.sampled_from(JSON_FAULTS))
    reasons: tuple[str, ...] = (UNDECODABLE,)
    raw = None
    tail = b""
    if kind == "missing key":
        del doc[draw(st.sampled_from(sorted(doc)))]
    elif kind == "version":
        doc["v"] = draw(
            st.one_of(
                st.integers().filter(lambda x: x != 1),
                st.floats().filter(lambda x: x != 1),
                st.just(False),
                st.none(),
                st.text(max_size=3),
                SMALL_LIST,
            )
        )
    elif kind == "seq type":
        doc["seq"] = draw(st.one_of(NOT_INT, st.booleans()))
    elif kind == "seq range":
        doc["seq"] = draw(st.one_of(st.integers(max_value=-1), st.integers(MAX_SEQ + 1, 2**200)))
    elif kind == "base time type":
        doc["base_time_ms"] = draw(st.one_of(NOT_INT, st.booleans()))
    elif kind == "base time range":
        doc["base_time_ms"] = draw(
            st.one_of(
                st.integers(max_value=MIN_BASE_TIME_MS - 1),
                st.integers(MAX_BASE_TIME_MS + 1, 2**200),
            )
        )
    elif kind == "device id type":
        doc["device_id"] = draw(NOT_STR)
    elif kind == "device id invalid":
        doc["device_id"] = draw(invalid_id())
    elif kind == "vin type":
        doc["vin"] = draw(NOT_STR)
    elif kind == "vin invalid":
        doc["vin"] = draw(invalid_vin())
    elif kind == "signals type":
        doc["signals"] = draw(NOT_DICT)
    elif kind == "column type":
        signals[name] = draw(NOT_DICT)
    elif kind == "column key missing":
        del col[draw(st.sampled_from(("t", "v")))]
    elif kind == "column list type":
        col[draw(st.sampled_from(("t", "v")))] = draw(NOT_LIST)
    elif kind == "offset type":
        col["t"][i] = draw(st.one_of(NOT_INT, st.booleans()))
    elif kind == "value type":
        col["v"][i] = draw(NOT_NUMBER)
    elif kind == "lengths differ":
        key = draw(st.sampled_from(("t", "v")))
        if draw(st.booleans()):
            col[key].pop(i)
        else:
            col[key].append(col[key][-1])
    elif kind == "offset order":
        which = draw(st.sampled_from(("negative", "beyond window", "falling")))
        if which == "negative":
            col["t"][0] = -draw(st.integers(1, 10**12))
        elif which == "beyond window":
            col["t"][-1] = MAX_WINDOW_MS + draw(st.integers(1, 10**12))
        else:
            col["t"].insert(0, col["t"][-1] + draw(st.integers(1, MAX_WINDOW_MS)))
            col["v"].append(col["v"][-1])
    elif kind == "unknown signal":
        other = draw(st.text(max_size=20).filter(lambda s: s not in SIGNAL_NAMES))
        signals[other] = {"t": list(col["t"]), "v": list(col["v"])}
    elif kind == "value overflows float":
        col["v"][i] = draw(FLOAT_OVERFLOW) * draw(st.sampled_from((1, -1)))
    elif kind == "value beyond any range":
        col["v"][i] = draw(BEYOND_ANY_RANGE) * draw(st.sampled_from((1, -1)))
        reasons = (OUT_OF_RANGE,)
    elif kind == "too many digits":
        field = draw(st.sampled_from(("seq", "base_time_ms", "t", "v")))
        raw = b"1" + b"0" * draw(st.integers(4300, 6000))
        _put_raw(doc, col, i, field)
    elif kind == "nested too deep":
        # Only where a list is wrong anyway: whether json.loads refuses the depth depends on
        # the recursion limit (hypothesis raises it while a test runs), and in a key the
        # format ignores, a parsed list would leave a valid batch.
        field = draw(st.sampled_from(("seq", "vin", "t", "v")))
        depth = draw(st.integers(1500, 5000))
        raw = b"[" * depth + b"]" * depth
        _put_raw(doc, col, i, field)
    elif kind == "not utf-8":
        # Not an encoded surrogate (b"\xed\xa0\x80"): json.loads decodes bytes with
        # "surrogatepass", so that one would be a valid (if odd) string in an extra key.
        field = draw(st.sampled_from(("vin", "device_id", "extra")))
        raw = b'"' + draw(st.sampled_from((b"\xff", b"\xc3(", b"\x80abc"))) + b'"'
        _put_raw(doc, col, i, field)
    elif kind == "trailing data":
        tail = draw(st.sampled_from((b"x", b"}", b"{}", b",", b"\x00", b"[]", b'"')))
    elif kind == "not an object":
        return JsonDoc(draw(st.one_of(NOT_DICT, st.just([doc]))), reasons)
    else:  # pragma: no cover
        raise AssertionError(kind)
    return JsonDoc(doc, reasons, raw, tail)


JSON_FAULTS = (
    "missing key",
    "version",
    "seq type",
    "seq range",
    "base time type",
    "base time range",
    "device id type",
    "device id invalid",
    "vin type",
    "vin invalid",
    "signals type",
    "column type",
    "column key missing",
    "column list type",
    "offset type",
    "value type",
    "lengths differ",
    "offset order",
    "unknown signal",
    "value overflows float",
    "value beyond any range",
    "too many digits",
    "nested too deep",
    "not utf-8",
    "trailing data",
    "not an object",
)


def _put_raw(doc: dict[str, Any], col: dict[str, Any], i: int, field: str) -> None:
    if field in ("t", "v"):
        col[field][i] = RAW
    elif field == "extra":
        doc["extra"] = RAW
    else:
        doc[field] = RAW


@st.composite
def out_of_range_batch(draw: st.DrawFn, device_id: str, vin: str, now_ms: int) -> Batch:
    """A recent batch with one value at least 1.5 resolution steps outside its signal's range
    (so it stays outside after the binary codec rounds it to the resolution)."""
    base, signals = draw(recent_series(now_ms))
    name = draw(st.sampled_from(sorted(signals)))
    sig = by_name(name)
    assert sig is not None
    col = signals[name]
    beyond = draw(
        st.one_of(
            st.floats(1.5 * sig.resolution, 1e9, allow_nan=False),
            st.floats(1e9, 1e300, allow_nan=False),
        )
    )
    high = draw(st.booleans())
    col["v"][draw(st.integers(0, len(col["v"]) - 1))] = (
        sig.max + beyond if high else sig.min - beyond
    )
    return _batch(
        device_id, draw(st.integers(0, MAX_SEQ)), draw(st.sampled_from(("", vin))), base, signals
    )


@st.composite
def future_batch(draw: st.DrawFn, device_id: str, vin: str, now_ms: int) -> Batch:
    """A batch whose last sample is more than FUTURE_MARGIN_MS ahead of generation."""
    _, signals = draw(recent_series(now_ms))
    name = draw(st.sampled_from(sorted(signals)))
    if draw(st.booleans()):
        # Wholly in the future: a clock set years ahead.
        base = draw(st.integers(now_ms + FUTURE_MARGIN_MS, MAX_BASE_TIME_MS))
    else:
        # Starts in the past and runs into the future: one sample with a broken offset.
        base = now_ms - draw(st.integers(0, 15 * MINUTE_MS))
        last = now_ms + FUTURE_MARGIN_MS - base + draw(st.integers(0, 10 * MINUTE_MS))
        col = signals[name]
        col["t"] = [min(t, last) for t in col["t"]]
        col["t"][-1] = last
    return _batch(
        device_id, draw(st.integers(0, MAX_SEQ)), draw(st.sampled_from(("", vin))), base, signals
    )


@st.composite
def stale_batch(draw: st.DrawFn, device_id: str, vin: str, now_ms: int) -> Batch:
    """A batch whose first sample is more than 400 days older than generation."""
    _, signals = draw(recent_series(now_ms))
    base = draw(st.integers(MIN_BASE_TIME_MS, now_ms - STALE_AGE_MS - MAX_WINDOW_MS))
    return _batch(
        device_id, draw(st.integers(0, MAX_SEQ)), draw(st.sampled_from(("", vin))), base, signals
    )


@st.composite
def mismatched_device_batch(
    draw: st.DrawFn, device_id: str, vin: str, now_ms: int, others: tuple[str, ...] = ()
) -> Batch:
    """A valid recent batch naming a device other than the topic's."""
    base, signals = draw(recent_series(now_ms))
    candidates = [valid_id(device_id)]
    if others:
        candidates.append(st.sampled_from(others))
    if device_id.upper() != device_id:
        candidates.append(st.just(device_id.upper()))
    claimed = draw(st.one_of(candidates))
    return _batch(
        claimed, draw(st.integers(0, MAX_SEQ)), draw(st.sampled_from(("", vin))), base, signals
    )


@st.composite
def mismatched_vin_batch(draw: st.DrawFn, device_id: str, vin: str, now_ms: int) -> Batch:
    """A valid recent batch from the device, naming a well-formed VIN that is not its own."""
    base, signals = draw(recent_series(now_ms))
    other = draw(st.text(VIN_ALPHABET, min_size=17, max_size=17).filter(lambda v: v != vin))
    return _batch(device_id, draw(st.integers(0, MAX_SEQ)), other, base, signals)


def _batch(device_id: str, seq: int, vin: str, base: int, signals: dict[str, Any]) -> Batch:
    return Batch(
        device_id,
        seq,
        vin,
        base,
        tuple(Series(n, tuple(c["t"]), tuple(c["v"])) for n, c in signals.items()),
    )


DTC_CODE = st.tuples(
    st.sampled_from("PCBU"),
    st.sampled_from("0123"),
    st.text("0123456789ABCDEF", min_size=3, max_size=3),
).map("".join)
BAD_DTC_CODE = st.one_of(
    DTC_CODE.map(str.lower),
    st.tuples(
        st.sampled_from("AXZ"),
        st.text("0123", min_size=1, max_size=1),
        st.text("0123456789ABCDEF", min_size=3, max_size=3),
    ).map("".join),
    st.tuples(
        st.sampled_from("PCBU"),
        st.sampled_from("456789"),
        st.text("0123456789ABCDEF", min_size=3, max_size=3),
    ).map("".join),
    st.text("PCBU0123456789ABCDEF", max_size=4),
    st.text("PCBU0123456789ABCDEF", min_size=6, max_size=8),
    st.one_of(st.none(), st.integers(), st.floats(), SMALL_LIST, SMALL_DICT, st.booleans()),
)


@st.composite
def dtc_wrong_types(draw: st.DrawFn, device_id: str, vin: str, now_ms: int) -> JsonDoc:
    """A valid trouble-code snapshot with exactly one thing ``decode_dtc`` must reject."""
    doc: dict[str, Any] = {
        "v": 1,
        "device_id": device_id,
        "vin": draw(st.sampled_from(("", vin))),
        "time_ms": now_ms - draw(st.integers(0, RECENT_MS)),
        "stored": draw(st.lists(DTC_CODE, max_size=4)),
        "pending": draw(st.lists(DTC_CODE, max_size=4)),
        "permanent": draw(st.lists(DTC_CODE, max_size=2)),
    }
    kind = draw(st.sampled_from(DTC_FAULTS))
    codes = draw(st.sampled_from(("stored", "pending", "permanent")))
    if kind == "missing key":
        del doc[draw(st.sampled_from(("v", "device_id", "vin", "time_ms")))]
    elif kind == "version":
        doc["v"] = draw(
            st.one_of(st.integers().filter(lambda x: x != 1), st.none(), st.text(max_size=3))
        )
    elif kind == "device id":
        doc["device_id"] = draw(st.one_of(NOT_STR, invalid_id()))
    elif kind == "vin":
        doc["vin"] = draw(st.one_of(NOT_STR, invalid_vin()))
    elif kind == "time":
        doc["time_ms"] = draw(
            st.one_of(
                NOT_INT,
                st.booleans(),
                st.integers(max_value=MIN_BASE_TIME_MS - 1),
                st.integers(MAX_BASE_TIME_MS + 1, 2**100),
            )
        )
    elif kind == "code list type":
        # A non-empty string becomes its characters, none of which is a code.
        doc[codes] = draw(
            st.one_of(st.integers(1, 10**6), st.floats(0.5, 1e9), st.text(min_size=1, max_size=6))
        )
    elif kind == "bad code":
        doc[codes] = [*doc[codes], draw(BAD_DTC_CODE)]
    elif kind == "too many codes":
        doc[codes] = draw(st.lists(DTC_CODE, min_size=MAX_CODES + 1, max_size=MAX_CODES + 20))
    elif kind == "not an object":
        return JsonDoc(draw(st.one_of(NOT_DICT, st.just([doc]))), (UNDECODABLE,))
    else:  # pragma: no cover
        raise AssertionError(kind)
    return JsonDoc(doc, (UNDECODABLE,))


@st.composite
def dtc_misfit(draw: st.DrawFn, device_id: str, vin: str, now_ms: int) -> JsonDoc:
    """A well-formed trouble-code snapshot that names another device or VIN, or a time
    beyond the accepted window."""
    doc: dict[str, Any] = {
        "v": 1,
        "device_id": device_id,
        "vin": draw(st.sampled_from(("", vin))),
        "time_ms": now_ms - draw(st.integers(0, RECENT_MS)),
        "stored": draw(st.lists(DTC_CODE, max_size=4, unique=True)),
        "pending": draw(st.lists(DTC_CODE, max_size=2, unique=True)),
    }
    kind = draw(st.sampled_from(("device", "vin", "future", "stale")))
    if kind == "device":
        doc["device_id"] = draw(valid_id(device_id))
        return JsonDoc(doc, (DEVICE_MISMATCH,))
    if kind == "vin":
        doc["vin"] = draw(
            st.text(VIN_ALPHABET, min_size=17, max_size=17).filter(lambda v: v != vin)
        )
        return JsonDoc(doc, (VIN_MISMATCH,))
    if kind == "future":
        doc["time_ms"] = draw(st.integers(now_ms + FUTURE_MARGIN_MS, MAX_BASE_TIME_MS))
        return JsonDoc(doc, (FUTURE,))
    doc["time_ms"] = draw(st.integers(MIN_BASE_TIME_MS, now_ms - STALE_AGE_MS))
    return JsonDoc(doc, (STALE,))


DTC_FAULTS = (
    "missing key",
    "version",
    "device id",
    "vin",
    "time",
    "code list type",
    "bad code",
    "too many codes",
    "not an object",
)


def collect(strategy: st.SearchStrategy[Any], count: int) -> list[Any]:
    """Up to ``count`` examples of a strategy as a list, quickly: generation only, no shrinking,
    no example database, and derandomised so a flood is the same on every run."""
    out: list[Any] = []

    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def gather(example: Any) -> None:
        out.append(example)

    gather()
    return out


@st.composite
def valid_batch(draw: st.DrawFn, device_id: str, vin: str, now_ms: int) -> Batch:
    """A valid recent batch (malformed only by where it is sent)."""
    base, signals = draw(recent_series(now_ms))
    return _batch(device_id, draw(st.integers(0, MAX_SEQ)), vin, base, signals)


# --- what the tests use -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Target:
    """A registered device (its vehicle's VIN), and ids nobody registered."""

    device_id: str
    vin: str
    others: tuple[str, ...] = ()  # other registered devices, for spoofing
    unknown: tuple[str, ...] = ()  # ids of devices nobody registered


def structured_case(target: Target, now_ms: int) -> st.SearchStrategy[Case]:
    """One malformed message of any structured category, for a property test."""
    dev, vin = target.device_id, target.vin
    topic = telemetry_topic(dev)

    def encoded(category: str, reasons: tuple[str, ...], to: str = topic):
        def make(pair: tuple[Batch, int]) -> Case:
            batch, k = pair
            return Case(category, to, batch_variants(batch, 3)[k], reasons)

        return make

    def rendered(category: str, to: str):
        def make(pair: tuple[JsonDoc, int]) -> Case:
            return Case(category, to, render_json(pair[0], pair[1]), pair[0].reasons)

        return make

    variant = st.integers(0, JSON_VARIANTS - 1)
    three = st.integers(0, 2)
    # An unregistered device's own, otherwise valid batch (needs some unregistered ids).
    unknown = st.sampled_from(target.unknown or (f"{dev}-unregistered",))
    return st.one_of(
        st.tuples(json_wrong_types(dev, vin, now_ms), variant).map(rendered("json", topic)),
        st.tuples(out_of_range_batch(dev, vin, now_ms), three).map(
            encoded("out of range", (OUT_OF_RANGE,))
        ),
        st.tuples(future_batch(dev, vin, now_ms), three).map(encoded("future", (FUTURE,))),
        st.tuples(stale_batch(dev, vin, now_ms), three).map(encoded("stale", (STALE,))),
        st.tuples(mismatched_device_batch(dev, vin, now_ms, target.others), three).map(
            encoded("device mismatch", (DEVICE_MISMATCH,))
        ),
        st.tuples(mismatched_vin_batch(dev, vin, now_ms), three).map(
            encoded("vin mismatch", (VIN_MISMATCH,))
        ),
        unknown.flatmap(
            lambda other: st.tuples(valid_batch(other, "", now_ms), three).map(
                encoded("unknown device", (UNKNOWN_DEVICE,), telemetry_topic(other))
            )
        ),
        st.tuples(st.integers(0, 2**32), st.sampled_from(BINARY_FAULTS)).map(
            lambda p: Case(
                "binary fault",
                topic,
                binary_fault(random.Random(p[0]), dev, vin, now_ms, p[1]),
                (UNDECODABLE,),
            )
        ),
        st.tuples(valid_batch(dev, vin, now_ms), three)
        .map(lambda p: batch_variants(p[0], 3)[p[1]])
        .flatmap(
            lambda payload: st.integers(0, len(payload) - 1).map(
                lambda cut: Case("truncated", topic, payload[:cut], (UNDECODABLE,))
            )
        ),
        st.binary(max_size=300).map(
            lambda b: Case("random bytes", topic, random_bytes_from(b), (UNDECODABLE,))
        ),
        st.tuples(dtc_wrong_types(dev, vin, now_ms), variant).map(rendered("dtc", dtc_topic(dev))),
        st.tuples(dtc_misfit(dev, vin, now_ms), variant).map(
            rendered("dtc misfit", dtc_topic(dev))
        ),
    )


def random_bytes_from(data: bytes) -> bytes:
    """``data`` made into neither a binary batch nor a JSON object (see random_bytes)."""
    data = data.translate(NO_BRACE)
    return b"X" + data[1:] if data[:2] == b"WL" else data


# Registered devices of a flood, one per category so that each topic holds one kind of fault.
FLOOD_DEVICES = (
    "random",
    "magic",
    "binfault",
    "trunc",
    "flip",
    "types",
    "range",
    "future",
    "stale",
    "mismatch",
    "vin",
    "dtc",
)


def flood(
    targets: dict[str, Target],
    unknown: list[str],
    now_ms: int,
    *,
    seed: int,
    scale: float = 1.0,
) -> list[Case]:
    """More than 100,000 malformed messages over every category, each category on the topic
    of its own registered device (trouble codes on its dtc topic) or of unregistered ones.

    Roughly: random bytes 18,000; truncations 15,900; bit flips 12,000; JSON wrong types
    12,000; out of range 8,400; binary faults 6,400; b'WL' + garbage 6,000; future, stale,
    device mismatch, VIN mismatch 4,000 each; unknown devices 5,000; trouble-code garbage
    6,400; decompression and sample-count bombs 3. ``scale`` multiplies the random counts (but
    the trouble-code garbage's, whose truncations alone would fill a smaller share) and
    the encodings sent of each structured example (never fewer than three: binary, zlib and
    JSON); the structured examples stay the same ones, as a few of each reason are found only
    among the later ones.
    """

    def n(count: int) -> int:
        return max(1, round(count * scale))

    def nv(variants: int) -> int:
        return max(min(3, variants), round(variants * scale))

    rng = random.Random(seed)
    t = targets
    cases: list[Case] = []
    cases += random_garbage(rng, telemetry_topic(t["random"].device_id), n(18_000), "random bytes")
    cases += magic_garbage(rng, t["magic"].device_id, n(6_000))
    cases += bombs(t["magic"].device_id)
    cases += binary_faults(rng, t["binfault"].device_id, t["binfault"].vin, now_ms, n(6_400))
    cases += truncations(rng, t["trunc"].device_id, t["trunc"].vin, now_ms, n(14_000))
    cases += bit_flips(rng, t["flip"].device_id, t["flip"].vin, now_ms, n(12_000))
    cases += unknown_devices(rng, unknown, now_ms, valid=n(3_000), garbage=n(2_000))
    # Unscaled: its truncations alone would fill a smaller share, leaving out a category.
    cases += dtc_random(rng, t["dtc"].device_id, t["dtc"].vin, now_ms, 3_000)

    # Hypothesis for the structured ones: a few thousand examples, each sent in several
    # encodings (whitespace and key order for JSON; binary, zlib binary and JSON with
    # different sequence numbers for batches), none of which changes what is wrong.
    def docs(
        name: str,
        category: str,
        strategy: Callable[..., st.SearchStrategy[JsonDoc]],
        examples: int,
        variants: int,
        topic: str,
    ) -> list[Case]:
        target = t[name]
        found = collect(strategy(target.device_id, target.vin, now_ms), examples)
        return [
            Case(category, topic, render_json(doc, v), doc.reasons)
            for doc in found
            for v in range(nv(variants))
        ]

    def batches(
        name: str,
        strategy: st.SearchStrategy[Batch],
        examples: int,
        variants: int,
        reasons: tuple[str, ...],
    ) -> list[Case]:
        topic = telemetry_topic(t[name].device_id)
        return [
            Case(name, topic, payload, reasons)
            for batch in collect(strategy, examples)
            for payload in batch_variants(batch, nv(variants))
        ]

    def args(name: str) -> tuple[str, str, int]:
        return t[name].device_id, t[name].vin, now_ms

    cases += docs(
        "types",
        "json wrong types",
        json_wrong_types,
        1_200,
        10,
        telemetry_topic(t["types"].device_id),
    )
    dtc = dtc_topic(t["dtc"].device_id)
    cases += docs("dtc", "dtc wrong types", dtc_wrong_types, 400, 6, dtc)
    cases += docs("dtc", "dtc misfit", dtc_misfit, 200, 5, dtc)
    cases += batches("range", out_of_range_batch(*args("range")), 700, 12, (OUT_OF_RANGE,))
    cases += batches("future", future_batch(*args("future")), 400, 10, (FUTURE,))
    cases += batches("stale", stale_batch(*args("stale")), 400, 10, (STALE,))
    others = tuple(x.device_id for k, x in t.items() if k != "mismatch")
    cases += batches(
        "mismatch",
        mismatched_device_batch(*args("mismatch"), others=others),
        400,
        10,
        (DEVICE_MISMATCH,),
    )
    cases += batches("vin", mismatched_vin_batch(*args("vin")), 400, 10, (VIN_MISMATCH,))
    return cases
