"""What Powertools idempotency needs from bcsync: telling a replay from a first delivery."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord


def flag_duplicate(response: Any, idempotent_data: DataRecord) -> Any:
    """Powertools idempotency's `response_hook`: called only when it returns a stored result instead
    of running again, so the caller can count duplicates."""
    return {**response, "duplicate": True} if isinstance(response, dict) else response
