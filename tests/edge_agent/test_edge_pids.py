# SPDX-License-Identifier: MIT
"""Multi-PID requests and replies, as pure functions on bytes."""

import pytest

from edge_agent.pids import parse_reply, request


def test_request_lists_pids_in_hex():
    assert request([0x0C, 0x0D, 0xA6]) == b"010C0DA6"
    with pytest.raises(ValueError):
        request([1, 2, 3, 4, 5, 6, 7])


def test_combined_reply_is_split_by_each_pids_length():
    data = bytes([0x41, 0x0C, 0x1A, 0xF8, 0x0D, 0x32, 0x05, 0x7B, 0xA6, 0x00, 0x07, 0x53, 0x0A])
    assert parse_reply(data) == {0x0C: 1726.0, 0x0D: 50.0, 0x05: 83.0, 0xA6: 48001.0}


def test_truncated_or_unknown_stops_without_guessing():
    assert parse_reply(bytes([0x41, 0x0D, 0x20, 0x0C, 0x1A])) == {0x0D: 32.0}
    assert parse_reply(bytes([0x41, 0x0D, 0x20, 0x99, 0x01, 0x05, 0x50])) == {0x0D: 32.0}
    assert parse_reply(bytes([0x7F, 0x01, 0x12])) == {}
    assert parse_reply(b"") == {}
