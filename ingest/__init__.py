# SPDX-License-Identifier: MIT
"""MQTT consumer group → decode → validate → batched COPY → acknowledge after commit.

Ingest raises no errors of its own: a message that cannot be stored is an ``Outcome`` with
status ``dead_letter``, and database errors (``psycopg.Error``) propagate unwrapped so the
caller retries.
"""

from ingest.consumer import IngestWorker, run_forever
from ingest.main import run
from ingest.message import Message, Outcome
from ingest.pipeline import HANDLERS, prepare, process_message, process_messages
from ingest.stats import Stats

__all__ = [
    "HANDLERS",
    "IngestWorker",
    "Message",
    "Outcome",
    "Stats",
    "prepare",
    "process_message",
    "process_messages",
    "run",
    "run_forever",
]
