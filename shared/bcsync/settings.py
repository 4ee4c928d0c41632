"""The function's configuration (`RuntimeConfig`): its environment, read once at cold start."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bcsync.errors import ConfigurationError
from bcsync.store.settings import JOBS


class RuntimeConfig(BaseModel):
    """What a function learns from its environment; built once per cold start."""

    model_config = ConfigDict(frozen=True)

    state_table: str
    idempotency_table: str
    event_bus: str
    payload_bucket: str
    # Where this stack's store secrets live (`bcsync/<stack>/stores/`): its own, never another stack's. No
    # default: one shared by every stack of an account is exactly what must not happen.
    secret_prefix: str = Field(pattern=r"^[A-Za-z0-9_+=.@-]+(/[A-Za-z0-9_+=.@-]+)*/$")
    bigcommerce_api_url: str = "https://api.bigcommerce.com"
    order_retention_days: int = Field(default=90, ge=1)
    job_queue_urls: dict[str, str] = Field(default_factory=dict)
    job_dlq_urls: dict[str, str] = Field(default_factory=dict)
    shipments_queue_url: str = ""  # ShipmentsInbound: the writeback re-queues what waits for a store's budget
    shipments_dlq_url: str = ""  # where the tracking writeback moves messages that can never succeed
    stock_dlq_url: str = ""  # where the inventory push moves stock messages that can never be read
    stock_inbound_arn: str = ""  # the inventory push tells its two queues' batches apart by this
    # How long a BigCommerce answer may take before the call is retried (GET/PUT) or reported (POST).
    bigcommerce_read_timeout_seconds: float = Field(default=20.0, gt=0, le=60)
    # Invocations this close to their deadline checkpoint and re-queue instead of starting more work.
    deadline_margin_seconds: float = Field(default=20.0, ge=0)
    # Webhook deliveries within this many seconds of the first one share one job run. Each run has a fixed cost
    # (its lease, cursor and run record: writes, an invocation); 15 s lets a store taking an order every few
    # seconds share one run among several orders, well inside the 60-second lag bcsync aims for.
    webhook_debounce_seconds: float = Field(default=15.0, ge=0, le=900)

    @field_validator("bigcommerce_api_url")
    @classmethod
    def _https_only(cls, url: str) -> str:
        """Store tokens travel in a header: https, or http to this machine's loopback (the local runtime)."""
        parts = urlsplit(url)
        if parts.hostname and (parts.scheme == "https" or (parts.scheme == "http" and _loopback(parts.hostname))):
            return url
        raise ValueError("BigCommerce's API is reached over https (http only on loopback, for local runs)")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RuntimeConfig:
        env = os.environ if environ is None else environ
        names = {
            "state_table": "BCSYNC_STATE_TABLE",
            "idempotency_table": "BCSYNC_IDEMPOTENCY_TABLE",
            "event_bus": "BCSYNC_EVENT_BUS",
            "payload_bucket": "BCSYNC_PAYLOAD_BUCKET",
            "secret_prefix": "BCSYNC_SECRET_PREFIX",
            "bigcommerce_api_url": "BIGCOMMERCE_API_URL",
            "order_retention_days": "BCSYNC_ORDER_RETENTION_DAYS",
            "deadline_margin_seconds": "BCSYNC_DEADLINE_MARGIN_SECONDS",
            "webhook_debounce_seconds": "BCSYNC_WEBHOOK_DEBOUNCE_SECONDS",
            "shipments_queue_url": "BCSYNC_SHIPMENTS_QUEUE_URL",
            "shipments_dlq_url": "BCSYNC_SHIPMENTS_DLQ_URL",
            "stock_dlq_url": "BCSYNC_STOCK_DLQ_URL",
            "stock_inbound_arn": "BCSYNC_STOCK_INBOUND_ARN",
            "bigcommerce_read_timeout_seconds": "BCSYNC_BIGCOMMERCE_READ_TIMEOUT_SECONDS",
        }
        values: dict[str, object] = {field: env[var] for field, var in names.items() if env.get(var)}
        for field, suffix in (("job_queue_urls", "QUEUE_URL"), ("job_dlq_urls", "DLQ_URL")):
            values[field] = {
                job: env[f"BCSYNC_{job.upper()}_{suffix}"] for job in JOBS if env.get(f"BCSYNC_{job.upper()}_{suffix}")
            }
        try:
            return cls.model_validate(values)
        except ValidationError as error:
            fields = ", ".join(names.get(str(issue["loc"][0]), str(issue["loc"][0])) for issue in error.errors())
            raise ConfigurationError(f"bcsync is not configured: missing or invalid {fields}") from None


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
