"""After a commit the session kicks the outbox and the automation sender it was marked for
(``app.events``): a kick that fails is logged and never fails the commit nor stops the other."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import text

from app import events
from app.extensions import db
from app.services import automation_sender, outbox


@pytest.fixture
def kicks(app, monkeypatch):
    calls, failing = [], set()

    def kick(name):
        def run():
            calls.append(name)
            if name in failing:
                raise RuntimeError(f"{name} is down")

        return run

    monkeypatch.setattr(outbox, "kick", kick("outbox"))
    monkeypatch.setattr(automation_sender, "kick", kick("automations"))
    return calls, failing


def commit(outbox_queued: bool, automations_queued: bool) -> None:
    db.session.execute(text("SELECT 1"))
    if outbox_queued:
        events.mark_outbox_queued()
    if automations_queued:
        events.mark_automations_queued()
    db.session.commit()


@pytest.mark.parametrize("down", ["outbox", "automations"])
def test_a_failing_kick_is_logged_and_the_other_still_runs(kicks, caplog, down):
    calls, failing = kicks
    failing.add(down)
    with caplog.at_level(logging.ERROR, logger="app.events"):
        commit(True, True)
    assert calls == ["outbox", "automations"]
    assert [r.getMessage() for r in caplog.records] == [f"{down} kick after commit failed"]


def test_only_what_was_marked_is_kicked_and_once(kicks):
    calls, _ = kicks
    commit(False, True)
    assert calls == ["automations"]
    commit(True, False)
    commit(False, False)  # the marks went with the commit that had them
    assert calls == ["automations", "outbox"]
    db.session.execute(text("SELECT 1"))
    events.mark_outbox_queued()
    db.session.rollback()  # rolled back: nothing to deliver
    commit(False, False)
    assert calls == ["automations", "outbox"]
