"""Fulfillment requests: orders the warehouse's other channels send into a store that fulfils (a source).

request (the inbound model) -> mapping (the v2 order body, pure) -> decide (pure) -> state (DynamoDB) ->
consumer (the I/O) -> function.
"""
