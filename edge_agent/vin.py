# SPDX-License-Identifier: MIT
"""VIN from a raw service-09 PID-02 reply.

python-OBD's own VIN decoder strips leading and trailing '0', '1' and '2' *characters* along
with the padding bytes, which corrupts VINs that begin or end with those digits. We keep only
the padding bytes out and take the last 17 characters.
"""

from __future__ import annotations

import re

_VIN = re.compile(rb"[A-HJ-NPR-Z0-9]{17}")


def decode_vin(data_frames: list[bytes]) -> str | None:
    """Decode the data bytes of each ECU message (mode byte 0x49 first) into a VIN, or None."""
    chars = bytearray()
    for data in data_frames:
        if len(data) < 2 or data[0] != 0x49 or data[1] != 0x02:
            continue
        body = data[2:]
        # CAN replies carry one 'number of data items' byte before the text; legacy protocols
        # send several 7-byte messages whose third byte is a sequence number. Either way the
        # text itself is ASCII and the padding is NUL (0x00) bytes.
        chars.extend(b for b in body if 0x20 < b < 0x7F)
    match = _VIN.fullmatch(bytes(chars[-17:]))
    return match.group().decode("ascii") if match else None
