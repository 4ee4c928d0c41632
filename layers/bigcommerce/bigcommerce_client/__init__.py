"""bcsync's BigCommerce client: HTTP, auth, paging, rate governor, retries, typed errors, models.

No AWS imports: this package is the `bigcommerce` Lambda layer and is usable on its own.
"""

from .client import API_URL_ENV, DEFAULT_API_URL, MAX_PAGE_SIZE, PROBE_HEADER, BigCommerceClient, validate_store_hash
from .clock import PROCESS_CLOCK, SYSTEM_CLOCK, Clock, ProcessClock, ScaledClock, SystemClock, VirtualClock
from .counter import CallCounter, endpoint_of
from .errors import (
    AuthenticationError,
    BigCommerceError,
    BudgetExhaustedError,
    MalformedResponseError,
    MissingScopeError,
    NetworkError,
    NotFoundError,
    RateLimitedError,
    RequestRejectedError,
    RetryLaterError,
    ServerError,
    UnknownStoreError,
    UnprocessableError,
    ValidationError,
)
from .ratelimit import RateGovernor, RateLimitHeaders
from .retry import RATE_WINDOW_SECONDS

__all__ = [
    "API_URL_ENV",
    "DEFAULT_API_URL",
    "MAX_PAGE_SIZE",
    "PROBE_HEADER",
    "PROCESS_CLOCK",
    "RATE_WINDOW_SECONDS",
    "SYSTEM_CLOCK",
    "AuthenticationError",
    "BigCommerceClient",
    "BigCommerceError",
    "BudgetExhaustedError",
    "CallCounter",
    "Clock",
    "MalformedResponseError",
    "MissingScopeError",
    "NetworkError",
    "NotFoundError",
    "ProcessClock",
    "RateGovernor",
    "RateLimitHeaders",
    "RateLimitedError",
    "RequestRejectedError",
    "RetryLaterError",
    "ScaledClock",
    "ServerError",
    "SystemClock",
    "UnknownStoreError",
    "UnprocessableError",
    "ValidationError",
    "VirtualClock",
    "endpoint_of",
    "validate_store_hash",
]
