"""The id of a row just inserted."""

from __future__ import annotations

from typing import Any

from sqlalchemy import CursorResult


def inserted_id(result: CursorResult[Any]) -> Any:
    """The primary key of the row a single-row INSERT stored.

    SQLAlchemy types ``inserted_primary_key`` as optional; an INSERT … VALUES always has one, so a None here
    fails loudly, as indexing it did before.
    """
    key = result.inserted_primary_key
    assert key is not None
    return key[0]
