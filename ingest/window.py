# SPDX-License-Identifier: MIT
"""How many unacknowledged messages the broker really sends us, learned from its silences.

We announce a Receive Maximum (``consumer.MAX_INFLIGHT``, twice a flush) so the next flush
fills while the previous one commits. A broker may send fewer: MQTT 5 makes Receive Maximum an
upper bound, and no broker says what it uses. rumqttd, the embedded broker, sends at most 100
whatever the client asks (a constant of its router); EMQX sends at most its ``max_inflight``
(32 by default). Below a flush's size, a flush then waits out its whole interval for messages
the broker holds back until this very flush is acknowledged, and the next flush cannot fill
while this one commits: throughput falls to a window per interval.

The sign is a stall: the flush timed out with every message we hold in it (none queued
behind it) after the flow had stopped for half an interval. We then take the flush's size as
the broker's window and flush at half of it, so half a window arrives while the other half
commits, as with a broker that honours the Receive Maximum. A window seen exceeded (more
unacknowledged at once than we thought) grows it again, so a burst that ends in silence on a
broker that sends more costs a few smaller flushes, never throughput.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

log = logging.getLogger(__name__)

# A stall with fewer messages than this is a quiet fleet, not a window: a single message (or
# a short burst) followed by silence must still wait out its interval to share a commit.
MIN_WINDOW = 16
# The flow must have stopped for this share of the flush interval to count as a stall: a
# fleet that is merely quiet keeps trickling up to the deadline.
SILENCE_SHARE = 0.5


@dataclass
class SendWindow:
    """The broker's send window as one writer sees it: None until a stall shows one."""

    flush_interval_s: float
    messages: int | None = None

    def flush_size(self, flush_messages: int) -> int:
        """Messages that end a flush: ``flush_messages``, or half the window once known."""
        if self.messages is None:
            return flush_messages
        return max(1, min(flush_messages, self.messages // 2))

    def observe(self, *, held: int, queued: int, timed_out: bool, silent_s: float) -> None:
        """Learn from a collected flush: ``held`` messages in it, ``queued`` behind it,
        whether it ended at its deadline, and how long since its last message arrived."""
        if self.messages is not None and held + queued > self.messages:
            self.messages = held + queued  # the broker sent more than we thought
        stalled = (
            timed_out
            and queued == 0
            and held >= MIN_WINDOW
            and silent_s >= SILENCE_SHARE * self.flush_interval_s
        )
        if stalled and self.messages != held:
            log.info(
                "the broker stops at %d unacknowledged messages; flushing at %d",
                held,
                max(1, held // 2),
            )
            self.messages = held
