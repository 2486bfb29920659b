"""Text that BigQuery and Beam's coders can take: valid Unicode, without lone surrogates.

A Python ``str`` decoded from JSON may hold a lone surrogate (``"\\ud800"``); it cannot be
written as UTF-8, so such text is refused, or escaped before it goes into a failure's reason.
"""

from __future__ import annotations


def encodable(text: str) -> bool:
    """True when ``text`` can be written as UTF-8 (it holds no lone surrogate)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def escaped(text: str) -> str:
    """``text`` with each lone surrogate written as a backslash escape (``\\ud800``); other text
    unchanged."""
    return text if encodable(text) else text.encode("utf-8", "backslashreplace").decode("utf-8")
