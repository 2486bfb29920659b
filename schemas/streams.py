"""The three event streams: each is a raw table in ``events`` and an ``event_type`` value."""

from __future__ import annotations

# stream (= raw table name) -> the event_type producers send
EVENT_TYPE_BY_STREAM = {"orders": "order", "inventory": "inventory", "user_activity": "user_activity"}
STREAMS = tuple(EVENT_TYPE_BY_STREAM)
STREAM_BY_EVENT_TYPE = {event_type: stream for stream, event_type in EVENT_TYPE_BY_STREAM.items()}
# Where a message goes when its stream cannot be told (unparseable, unknown event_type).
UNKNOWN_STREAM = "unknown"
