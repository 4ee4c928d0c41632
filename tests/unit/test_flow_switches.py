"""Per-flow switches at the decide level: for each flow off, what every input that still arrives becomes."""

from __future__ import annotations

import pytest

from bcsync.store.flows import Input, Verdict, decide, flow_enabled
from bcsync.store.settings import JOBS, JobName, StoreSettings

STORE = "abc123"


def _off(*jobs: JobName) -> StoreSettings:
    return StoreSettings(store_hash=STORE, **{f"{job}_enabled": False for job in jobs})


# (the flow switched off, the input, its flow for ticks and job messages, the verdict, words its reason holds)
ROWS: list[tuple[JobName, Input, JobName | None, Verdict, tuple[str, ...]]] = [
    ("order_import", "tick", "order_import", Verdict.SKIP, ("order import is off for store abc123",)),
    ("order_import", "job_message", "order_import", Verdict.SKIP, ("order import is off",)),
    ("order_import", "tick", "product_sync", Verdict.RUN, ()),
    ("order_import", "stock_level", None, Verdict.RUN, ()),
    ("order_import", "shipment_confirmed", None, Verdict.RUN, ()),
    ("order_import", "warehouse_answer", None, Verdict.RUN, ()),  # an answer about an order already sent
    ("product_sync", "tick", "product_sync", Verdict.SKIP, ("product sync is off",)),
    ("product_sync", "job_message", "product_sync", Verdict.SKIP, ("product sync is off",)),
    ("product_sync", "job_message", "order_import", Verdict.RUN, ()),
    ("inventory_push", "tick", "inventory_push", Verdict.SKIP, ("inventory push is off",)),
    ("inventory_push", "job_message", "inventory_push", Verdict.SKIP, ("inventory push is off",)),
    (
        "inventory_push",
        "stock_level",
        None,
        Verdict.PROBLEM,
        ("inventory push is off for store abc123", "not pushed", "--set inventory_push_enabled=true"),
    ),
    ("inventory_push", "bundle_definition", None, Verdict.RUN, ()),  # a recipe is kept for when it is on
    ("inventory_push", "shipment_confirmed", None, Verdict.RUN, ()),
    ("tracking_writeback", "tick", "tracking_writeback", Verdict.SKIP, ("tracking writeback is off",)),
    (
        "tracking_writeback",
        "shipment_confirmed",
        None,
        Verdict.DEAD_LETTER,
        ("tracking writeback is off for store abc123", "--set tracking_writeback_enabled=true", "redrive"),
    ),
    ("tracking_writeback", "warehouse_answer", None, Verdict.RUN, ()),
    ("tracking_writeback", "stock_level", None, Verdict.RUN, ()),
]


@pytest.mark.parametrize(("off", "what", "job", "verdict", "words"), ROWS)
def test_an_input_for_a_flow_that_is_off(
    off: JobName, what: Input, job: JobName | None, verdict: Verdict, words: tuple[str, ...]
) -> None:
    decision = decide(_off(off), what, job)
    assert decision.verdict is verdict
    assert all(word in decision.reason for word in words), decision.reason


@pytest.mark.parametrize("what", ["tick", "job_message", "stock_level", "bundle_definition", "shipment_confirmed"])
def test_every_input_runs_while_every_flow_is_on(what: Input) -> None:
    settings = StoreSettings(store_hash=STORE)
    assert all(flow_enabled(settings, job) for job in JOBS)
    assert all(decide(settings, what, job).verdict is Verdict.RUN for job in JOBS)


def test_each_switch_turns_off_its_own_flow_alone() -> None:
    for job in JOBS:
        settings = _off(job)
        assert [other for other in JOBS if not flow_enabled(settings, other)] == [job]


def test_a_switch_is_set_like_any_setting_and_survives_the_registry() -> None:
    settings = StoreSettings(store_hash=STORE).with_changes({"inventory_push_enabled": False})
    assert not StoreSettings.read(settings.to_stored()).inventory_push_enabled


@pytest.mark.parametrize("job", JOBS)
@pytest.mark.parametrize("what", ["tick", "job_message"])
def test_every_flow_switched_off_skips_its_ticks_and_job_messages_with_a_reason(what: Input, job: JobName) -> None:
    # A flow without its label raised KeyError here: the schedule's fan-out crashed for every store.
    decision = decide(_off(job), what, job)
    assert decision.verdict is not Verdict.RUN and decision.reason
