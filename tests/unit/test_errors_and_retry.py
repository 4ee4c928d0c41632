from __future__ import annotations

import pytest
from tenacity import RetryCallState, Retrying

from bigcommerce_client import BigCommerceClient, NetworkError, RateLimitedError, ServerError, UnprocessableError
from bigcommerce_client.errors import parse_validation_body
from bigcommerce_client.retry import should_retry, wait_for_bigcommerce
from bigcommerce_client.scopes import scope_for


def test_inventory_422_names_the_offending_item() -> None:
    body = {
        "status": 422,
        "title": "[Item with variant_id 106 is tracked by product, please update stock by product id]",
        "type": "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes",
        "errors": {},
    }
    message, errors, _ = parse_validation_body(body)
    assert "tracked by product" in message
    assert errors["variant_id"] == "106"


def test_v3_field_errors_give_the_item_indexes() -> None:
    _, errors, indexes = parse_validation_body(
        {"title": "bad", "errors": {"items.3.quantity": "negative", "items.7": "x"}}
    )
    assert indexes == (3, 7)
    assert errors["items.3.quantity"] == "negative"


def test_v2_error_lists_become_one_message() -> None:
    message, _, _ = parse_validation_body([{"status": 400, "message": "The field 'items' cannot be blank."}])
    assert message == "The field 'items' cannot be blank."


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/v2/orders", "Orders (read-only, store_v2_orders_read_only)"),
        ("POST", "/v2/orders/5/shipments", "Orders (modify, store_v2_orders)"),
        ("PUT", "/v3/inventory/adjustments/absolute", "Store Inventory (modify, store_inventory)"),
        ("GET", "/v3/catalog/products", "Products (read-only, store_v2_products_read_only)"),
    ],
)
def test_missing_scope_is_named(method: str, path: str, expected: str) -> None:
    assert scope_for(method, path) == expected


def test_post_is_never_retried_but_get_and_put_are() -> None:
    dropped = NetworkError("dropped", store_hash="abc")
    assert not should_retry("POST", dropped, 5)
    assert should_retry("GET", dropped, 5)
    assert should_retry("PUT", ServerError("500", store_hash="abc"), 5)
    assert not should_retry("PUT", UnprocessableError("bad", store_hash="abc"), 5)


def test_a_429_reset_beyond_the_wait_limit_goes_back_to_the_caller() -> None:
    long = RateLimitedError("429", retry_after=25.0, retry_at=None, store_hash="abc")
    short = RateLimitedError("429", retry_after=2.0, retry_at=None, store_hash="abc")
    assert not should_retry("GET", long, 5)
    assert should_retry("GET", short, 5)


def _state_with(error: BaseException, attempt: int = 1) -> RetryCallState:
    state = RetryCallState(Retrying(), fn=None, args=(), kwargs={})
    state.attempt_number = attempt
    state.set_exception((type(error), error, None))
    return state


def test_wait_honours_the_reset_header_with_a_little_jitter() -> None:
    wait = wait_for_bigcommerce(reset_jitter=0.25)
    seconds = wait(_state_with(RateLimitedError("429", retry_after=3.0, retry_at=None, store_hash="abc")))
    assert 3.0 <= seconds <= 3.25


def test_wait_without_headers_is_jittered_exponential_backoff() -> None:
    wait = wait_for_bigcommerce(initial=0.5, maximum=8.0)
    bare = RateLimitedError("429", retry_after=None, retry_at=None, store_hash="abc")
    samples = {wait(_state_with(bare, attempt=4)) for _ in range(50)}
    assert all(0 <= sample <= 8.0 for sample in samples)
    assert len(samples) > 1  # jitter: concurrent callers do not retry in lockstep


def test_token_is_not_in_the_client_repr() -> None:
    client = BigCommerceClient(store_hash="abc123", access_token="very-secret-token", api_url="http://127.0.0.1:9")
    assert "very-secret-token" not in repr(client)
    assert "very-secret-token" not in repr(vars(client).get("_token"))


@pytest.mark.parametrize("bad_hash", ["", "ABC", "abc/../x", "a b"])
def test_a_malformed_store_hash_is_refused_up_front(bad_hash: str) -> None:
    with pytest.raises(ValueError, match="store hash"):
        BigCommerceClient(store_hash=bad_hash, access_token="t")


def test_an_empty_token_is_refused_up_front() -> None:
    with pytest.raises(ValueError, match="no access token"):
        BigCommerceClient(store_hash="abc123", access_token=" ")


def test_configuration_is_keyword_only() -> None:
    with pytest.raises(TypeError):
        BigCommerceClient("abc123", "token")  # type: ignore[call-arg]


def test_a_422_is_unprocessable_and_the_old_name_still_means_it() -> None:
    import bigcommerce_client

    assert bigcommerce_client.ValidationError is bigcommerce_client.UnprocessableError
    assert issubclass(bigcommerce_client.UnprocessableError, bigcommerce_client.BigCommerceError)
