"""The saga property on a ledger: success keeps every effect, failure undoes all, in reverse."""

import threading

import pytest

from asl.testing import Ledger, assert_compensated, compensation_violations


def ledger_of(*events):
    ledger = Ledger()
    for event in events:
        kind, effect = event.split()
        (ledger.do if kind == "do" else ledger.undo)(effect)
    return ledger


@pytest.mark.parametrize("status, events, violations", [
    ("SUCCEEDED", ["do a", "do b"], []),
    ("SUCCEEDED", [], []),
    ("SUCCEEDED", ["do a", "undo a"], ["'a' was undone although the execution SUCCEEDED"]),
    ("FAILED", [], []),
    ("FAILED", ["do a", "do b", "undo b", "undo a"], []),
    ("FAILED", ["do a", "do b", "undo b"],
     ["'a' is still in place after a FAILED execution (never compensated)"]),
    ("FAILED", ["do a", "do b", "undo a", "undo b"],
     ["'a' was undone before 'b', although 'b' was done after it (compensations must run "
      "in reverse order)"]),
    ("FAILED", ["do a", "undo a", "undo a"], ["undo of 'a' (event 3), which was undone again"]),
    ("FAILED", ["do a", "undo b", "undo a"], ["undo of 'b' (event 2), which was never done"]),
    ("FAILED", ["undo a", "do a"], ["undo of 'a' (event 1), which was never done",
                                    "'a' is still in place after a FAILED execution (never compensated)"]),
    ("TIMED_OUT", ["do a"], ["'a' is still in place after a TIMED_OUT execution (never compensated)"]),
])
def test_violations(status, events, violations):
    assert compensation_violations(status, ledger_of(*events)) == violations


def test_effects_left_in_the_order_they_were_done():
    ledger = ledger_of("do a", "do b", "do c", "undo b")
    assert ledger.effects_left() == ["a", "c"]
    assert [str(e) for e in ledger.events] == ["do a", "do b", "do c", "undo b"]
    assert ledger.is_done("a") and not ledger.is_done("b")
    ledger.reset()
    assert ledger.events == [] and ledger.effects_left() == []


def test_undo_if_done_is_an_idempotent_compensation():
    ledger = ledger_of("do a")
    assert ledger.undo_if_done("b") is False
    assert ledger.undo_if_done("a") is True
    assert ledger.undo_if_done("a") is False
    assert compensation_violations("FAILED", ledger) == []


def test_records_from_many_threads():
    ledger = Ledger()
    threads = [threading.Thread(target=lambda i=i: [ledger.do(f"e{i}-{k}") for k in range(200)])
               for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ledger.effects_left()) == 1600


def test_assert_compensated_lists_every_violation_and_the_ledger():
    class Result:
        status, error = "FAILED", "OrderFailed"

    with pytest.raises(AssertionError) as raised:
        assert_compensated(Result(), ledger_of("do a", "do b", "undo a"), context="input: o-1")
    message = str(raised.value)
    assert message.splitlines()[0] == "saga property violated (FAILED: OrderFailed):"
    assert "  - 'b' is still in place after a FAILED execution (never compensated)" in message
    assert "ledger: do a, do b, undo a" in message
    assert message.endswith("input: o-1")
    assert_compensated(Result(), ledger_of("do a", "undo a"))   # holds: no exception
