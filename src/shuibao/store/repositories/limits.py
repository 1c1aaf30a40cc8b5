"""What the store can hold, for callers that check input before it reaches the database (the web's
bounded parameters)."""

from __future__ import annotations

from ..schema import MAX_ROW_ID

__all__ = ["MAX_ROW_ID"]
