"""The operator's Telegram notifications, switchable per kind (new sale, refund, failures), and
the daily summary (off by default, once per São Paulo day), against the live emulator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AutomationDelivery, OutboxEmail, WebhookEvent
from app.models.automation import DELIVERY_CANCELLED
from app.services import automation_sender, jobs, telegram_notify
from tests import seeds
from tests.clients.conftest import start_emulator  # noqa: F401
from tests.conftest import WebhookSender
from tests.web.test_telegram import approved, emu, messages, refunded, tg_config  # noqa: F401

SWITCHES = {
    "TELEGRAM_NOTIFY_SALES": "Nova venda aprovada",
    "TELEGRAM_NOTIFY_REVOKED": "Reembolso",
    "TELEGRAM_NOTIFY_FAILURES": "Falha que precisa de atenção",
}


def one_of_each(app) -> None:
    """A sale, its refund and a failure that needs a person, then the sender's pass."""
    hook = WebhookSender(app.test_client())
    body = approved()
    assert hook("hotmart", body).status_code == 200
    assert hook("hotmart", refunded(body["data"]["purchase"]["transaction"])).status_code == 200
    telegram_notify.failure_committed("e-mail não entregue", "77", "bia@example.com: 550")
    automation_sender.send_pending()


def kinds(texts: list[str]) -> set[str]:
    return {start for start in SWITCHES.values() for t in texts if t.startswith(start)}


def test_every_kind_is_sent_when_no_switch_was_set(app_factory, emu):  # noqa: F811
    app = app_factory(**tg_config(emu))
    with app.app_context():
        one_of_each(app)
    assert kinds(messages(emu)) == set(SWITCHES.values())


@pytest.mark.parametrize("switch", list(SWITCHES))
def test_a_kind_switched_off_is_not_sent_and_the_others_are(app_factory, emu, switch):  # noqa: F811
    app = app_factory(**tg_config(emu, **{switch: "false"}))
    with app.app_context():
        one_of_each(app)
        queued = db.session.scalars(
            select(AutomationDelivery.step).where(AutomationDelivery.target == "telegram")
        ).all()
    assert kinds(messages(emu)) == set(SWITCHES.values()) - {SWITCHES[switch]}
    assert len(queued) == 2  # the switched-off kind was never queued


def test_a_notification_queued_before_its_switch_went_off_is_cancelled(app_factory, emu):  # noqa: F811
    from app.services import settings

    app = app_factory(**tg_config(emu))
    with app.app_context():
        telegram_notify.delivery_failed("webhook falhou", "9", "KeyError")
        settings.set_value("TELEGRAM_NOTIFY_FAILURES", "false", by="test")  # before its turn
        db.session.commit()
        automation_sender.send_pending()
        db.session.expire_all()
        [row] = db.session.scalars(select(AutomationDelivery)).all()
        assert row.status == DELIVERY_CANCELLED and "desligado" in row.last_error
    assert messages(emu) == []


# ------------------------------------------------------------------------------ daily summary

# 10/03/2026 in São Paulo (UTC-3) is [03:00 UTC on the 10th, 03:00 UTC on the 11th).
DAY_START = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)
AFTER_MIDNIGHT = datetime(2026, 3, 11, 3, 20, tzinfo=UTC)  # 00:20 in São Paulo


def seed_the_day() -> None:
    noon = DAY_START + timedelta(hours=12)
    earlier = DAY_START - timedelta(days=5)
    db.session.add_all(
        [
            seeds.sale("D1", amount_cents=19_700, ordered_at=noon, approved_at=noon),
            seeds.sale("D2", amount_cents=5_050, ordered_at=noon, approved_at=noon),
            # 23:30 of the day before and 00:10 of the day after: not that day's.
            seeds.sale("B1", ordered_at=DAY_START - timedelta(minutes=30)),
            seeds.sale("A1", ordered_at=DAY_START + timedelta(hours=24, minutes=10)),
            seeds.sale("T1", ordered_at=noon, is_test=True),  # a test sale: left out
            seeds.sale(
                "R1", status="refunded", ordered_at=earlier, approved_at=earlier, status_at=noon
            ),
            seeds.sale(
                "C1", status="chargeback", ordered_at=earlier, approved_at=earlier, status_at=noon
            ),
            seeds.sale(
                "R2", status="refunded", ordered_at=earlier, approved_at=earlier, status_at=earlier
            ),
            WebhookEvent(
                platform="hotmart",
                dedupe_key="wh-failed",
                raw_body="{}",
                status="failed",
                received_at=noon,
            ),
            OutboxEmail(
                kind="activation",
                to_email="bia@example.com",
                subject="Acesso",
                body_text="x",
                body_html="x",
                status="failed",
                created_at=noon,
            ),
        ]
    )
    db.session.commit()


def test_the_daily_summary_is_off_by_default(app_factory, emu):  # noqa: F811
    app = app_factory(**tg_config(emu))
    with app.app_context():
        seed_the_day()
        assert telegram_notify.queue_daily_summary(AFTER_MIDNIGHT) is None
        assert jobs.execute(jobs.find("telegram_daily_summary")) == jobs.STATUS_SKIPPED
        assert db.session.scalar(select(AutomationDelivery.id)) is None


def test_the_daily_summary_is_sent_once_with_the_day_figures(app_factory, emu):  # noqa: F811
    app = app_factory(**tg_config(emu, TELEGRAM_DAILY_SUMMARY="true"))
    with app.app_context():
        seed_the_day()
        day = telegram_notify.queue_daily_summary(AFTER_MIDNIGHT)
        db.session.commit()
        assert day is not None and day.isoformat() == "2026-03-10"
        # A second process, a rerun or a restart after midnight: nothing more is queued.
        assert telegram_notify.queue_daily_summary(AFTER_MIDNIGHT) is None
        assert telegram_notify.queue_daily_summary(AFTER_MIDNIGHT + timedelta(hours=20)) is None
        db.session.commit()
        automation_sender.send_pending()
        automation_sender.send_pending()
        [row] = db.session.scalars(select(AutomationDelivery)).all()
        assert row.dedupe_key == "telegram:notify_summary:2026-03-10"
    [text] = messages(emu)
    assert text == (
        "Resumo do dia 10/03/2026: 2 vendas aprovadas, R$\xa0247,50. "
        "Reembolsos: 1; chargebacks: 1; cancelamentos: 0. "
        "Falhas que precisam de atenção: 2 (webhooks: 1; e-mails: 1; automações: 0)."
    )


def test_the_scheduled_job_queues_yesterday_once(app_factory, emu):  # noqa: F811
    app = app_factory(**tg_config(emu, TELEGRAM_DAILY_SUMMARY="true"))
    with app.app_context():
        job = jobs.find("telegram_daily_summary")
        assert job is not None and job.default_interval <= 3600
        assert jobs.execute(job) == jobs.STATUS_OK
        assert jobs.execute(job) == jobs.STATUS_OK
        db.session.expire_all()
        rows = db.session.scalars(select(AutomationDelivery)).all()
        assert [r.step for r in rows] == ["notify_summary"]
        setting = jobs.settings_map()["telegram_daily_summary"]
        assert setting.last_message == "resumo de ontem já enviado"
        automation_sender.send_pending()
    [text] = messages(emu)
    assert text.startswith("Resumo do dia ") and "0 vendas aprovadas, R$\xa00,00" in text
