"""The summary tables (kept by triggers) always equal a recomputation from the rows, whatever
wrote them: the ORM, core bulk inserts, upserts, updates and deletes; and the figures read
from them equal the same figures computed from the rows."""

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select, text, update

from app.extensions import db
from app.models import ActivationLink, KommoLead, Sale
from app.models.types import utcnow
from app.services import overview, stats, summaries

TABLES = {
    "sales_daily": ("day", "platform", "status", "currency", "is_test", "payment_method"),
    "sales_totals": ("platform", "status", "currency", "is_test"),
    "activation_daily": ("day", "platform", "product_id", "product_name"),
    "activation_hours": ("day", "hours"),
    "activation_products": ("product_id", "product_name"),
    "kommo_won_totals": ("currency",),
    "sales_daily_utm": ("day", "source", "campaign", "approved"),
    "sales_daily_owners": ("day", "owner", "in_crm"),
    "sales_daily_products": ("day", "platform", "product", "method"),
    "sales_monthly_utm": ("month", "source", "campaign", "approved"),
    "sales_monthly_products": ("month", "platform", "product", "method"),
    "sales_monthly_status": ("month", "platform", "status"),
    "kommo_won_daily": ("day", "owner", "has_sale"),
    "sales_daily_buyers": ("day", "platform", "kind", "prev_day"),
}


def _nonzero(rows, keys):
    result = {}
    for row in rows:
        mapping = dict(row._mapping)
        key = tuple(bool(mapping[k]) if k == "is_test" else mapping[k] for k in keys)
        values = tuple(int(v or 0) for k, v in mapping.items() if k not in keys)
        if any(values):
            result[key] = values
    return result


def assert_summaries_match():
    db.session.flush()
    dialect = db.session.get_bind().dialect.name
    for table, select_sql in summaries.recompute_statements(dialect).items():
        keys = TABLES[table]
        columns = summaries.COLUMNS[table]
        stored = db.session.execute(text(f"SELECT {columns} FROM {table}")).all()
        expected = db.session.execute(text(select_sql)).all()
        assert _nonzero(stored, keys) == _nonzero(expected, keys), table


def _sale_row(i, now, rng):
    status = rng.choice(("approved", "pending", "refunded", "complete", "canceled"))
    created = now - timedelta(days=rng.random() * 60)
    return {
        "platform": rng.choice(("hotmart", "kiwify", "kirvano")),
        "transaction_id": f"S{i}",
        "status": status,
        "buyer_email": f"b{i}@example.com",
        "product_id": f"p{i % 4}",
        "product_name": f"Produto {i % 4}",
        "utm_source": (None, "", "google")[i % 3],  # not from rng: keep its sequence
        "src": (None, "insta")[i % 2],
        "utm_campaign": (None, "bf")[i % 5 // 4],
        "payment_method": (None, "PIX", "credit_card")[i % 3],
        "amount_cents": rng.choice((None, 9700, 19700)),
        "currency": rng.choice((None, "BRL", "USD")),
        "is_order_bump": False,
        "is_test": rng.random() < 0.1,
        "source": "webhook",
        "approved_at": created if status != "pending" else None,
        "status_at": created + timedelta(hours=rng.random() * 100),
        "created_at": created,
        "updated_at": created,
    }


def _seed(n=120, seed=7):
    rng = random.Random(seed)
    now = utcnow()
    db.session.execute(insert(Sale), [_sale_row(i, now, rng) for i in range(n)])
    sale_ids = db.session.scalars(select(Sale.id).order_by(Sale.id)).all()
    links = []
    for i, sale_id in enumerate(sale_ids):
        created = now - timedelta(days=rng.random() * 40)
        status = rng.choice(("pending", "used", "expired", "revoked"))
        links.append(
            {
                "token_hash": f"{i:064d}",
                "sale_id": sale_id,
                "buyer_email": f"b{i}@example.com",
                "platform": rng.choice(("hotmart", "kiwify")),
                "product_id": rng.choice((None, "p1", "p2")),
                "product_name": rng.choice((None, "Um", "Dois")),
                "is_test": rng.random() < 0.1,
                "status": status,
                "created_at": created,
                "expires_at": created + timedelta(days=rng.choice((1, 7, 60))),
                "sent_at": created if rng.random() < 0.9 else None,
                "opened_at": created if rng.random() < 0.5 else None,
                "used_at": created + timedelta(hours=rng.random() * 48)
                if status == "used"
                else None,
                "open_count": 0,
                "revoked_reason": rng.choice(("replaced", "email_changed", "refunded"))
                if status == "revoked"
                else None,
            }
        )
    db.session.execute(insert(ActivationLink), links)
    return rng


def test_summaries_follow_every_kind_of_write(app):
    rng = _seed()
    assert_summaries_match()

    # ORM writes: a new sale, status changes, amount and currency edits, a delete.
    sale = Sale(platform="hotmart", transaction_id="ORM1", status="approved", amount_cents=500)
    db.session.add(sale)
    db.session.flush()
    sale.status = "refunded"
    sale.status_at = utcnow()
    some = db.session.scalars(select(Sale).order_by(Sale.id).limit(10)).all()
    some[0].amount_cents = 123
    some[1].currency = "EUR"
    some[2].is_test = not some[2].is_test
    some[3].approved_at = utcnow() - timedelta(days=400)
    db.session.delete(some[4])
    assert_summaries_match()

    # Core bulk update and an upsert (the sync services' way of writing).
    db.session.execute(update(Sale).where(Sale.status == "pending").values(status="approved"))
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert
    stmt = upsert(Sale).values(
        [_sale_row(i, utcnow(), rng) for i in range(110, 130)]  # 110..119 exist
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["platform", "transaction_id"],
        set_={"status": stmt.excluded.status, "amount_cents": stmt.excluded.amount_cents},
    )
    db.session.execute(stmt)
    assert_summaries_match()

    # Links: used, revoked as replaced, expired by the job, moved to test, deleted.
    links = db.session.scalars(select(ActivationLink).order_by(ActivationLink.id).limit(8)).all()
    links[0].status, links[0].used_at = "used", utcnow()
    links[1].status, links[1].revoked_reason = "revoked", "replaced"
    links[2].is_test = True
    links[3].product_name = "Renomeado"
    links[4].opened_at = utcnow()
    db.session.delete(links[5])
    db.session.execute(
        update(ActivationLink)
        .where(ActivationLink.status == "pending", ActivationLink.expires_at <= utcnow())
        .values(status="expired")
    )
    assert_summaries_match()

    # Kommo leads: won, lost, repriced, currency learned, deleted; a bulk insert.
    db.session.execute(
        insert(KommoLead),
        [
            {
                "remote_id": 900 + i,
                "name": f"L{i}",
                "price": rng.choice((None, 100, 250)),
                "currency": rng.choice((None, "BRL", "USD")),
                "is_won": rng.random() < 0.5,
                "is_lost": False,
            }
            for i in range(30)
        ],
    )
    assert_summaries_match()
    leads = db.session.scalars(select(KommoLead).order_by(KommoLead.id).limit(6)).all()
    leads[0].is_won = not leads[0].is_won
    leads[1].price = 999
    leads[2].currency = "EUR"
    leads[3].is_won, leads[3].price = True, None
    db.session.delete(leads[4])
    assert_summaries_match()

    # Deleting sales cascades to their links (ON DELETE CASCADE at the database too).
    db.session.execute(Sale.__table__.delete().where(Sale.id < 20))
    assert_summaries_match()
    db.session.commit()
    assert_summaries_match()


def test_rebuild_restores_the_summaries(app):
    _seed(40)
    db.session.execute(text("DELETE FROM sales_daily"))
    db.session.execute(text("UPDATE activation_daily SET created = created + 5"))
    summaries.rebuild(db.session.connection())
    assert_summaries_match()
    # The triggers it dropped for the recompute are back: later writes still move the sums.
    db.session.execute(update(Sale).where(Sale.id % 3 == 0).values(status="refunded"))
    db.session.execute(text("DELETE FROM activation_links WHERE id % 4 = 0"))
    assert_summaries_match()


def _reference_counts(since):
    """The funnel counted from the links in Python (the definition the summaries must meet)."""
    now = utcnow()
    counts = dict.fromkeys(("created", "sent", "opened", "used", "expired", "revoked"), 0)
    counts["pending"] = 0
    for link in db.session.scalars(select(ActivationLink)):
        if link.is_test or (link.revoked_reason or "") in stats.REPLACED:
            continue
        if since is not None and link.created_at < since:
            continue
        counts["created"] += 1
        counts["sent"] += link.sent_at is not None
        counts["opened"] += link.opened_at is not None
        status = link.effective_status(now)
        counts[status] += 1
    return counts


def test_figures_from_summaries_equal_the_rows(app):
    _seed(200, seed=11)
    db.session.commit()
    for days in (None, 1, 7, 30):
        since = None if days is None else utcnow() - timedelta(days=days, hours=5)
        f = stats.funnel(since=since)
        got = {k: getattr(f, k) for k in _reference_counts(since)}
        assert got == _reference_counts(since), days
        # The median from the hour histogram equals the median over every used link.
        assert f.median_seconds_to_activate == stats.median_time_to_activate(
            stats._where(since, None, None)
        )
    since = utcnow() - timedelta(days=30)
    assert sum(r["created"] for r in stats.by_platform(since)) == stats.funnel(since).created
    assert sum(r["created"] for r in stats.by_day(30)) == stats.funnel(since).created
    assert sum(r["created"] for r in stats.by_product(since, limit=100)) == (
        stats.funnel(since).created
    )

    # The overview's approved count and revenue: summary days + the partial first day.
    expected = [0, 0]
    for sale in db.session.scalars(select(Sale)):
        when = sale.approved_at or sale.status_at or sale.created_at
        if (
            sale.status in ("approved", "complete", "disputed", "overdue")
            and when >= since
            and (sale.currency or "BRL") == "BRL"
            and not sale.is_test
        ):
            expected[0] += 1
            expected[1] += sale.amount_cents or 0
    assert list(overview.approved_totals(since)) == expected


def test_day_boundaries_are_sao_paulo_days(app):
    # 02:30 UTC is still the previous day in São Paulo (UTC-3).
    moment = datetime(2026, 3, 10, 2, 30, tzinfo=UTC)
    db.session.add(
        Sale(
            platform="hotmart",
            transaction_id="TZ1",
            status="approved",
            approved_at=moment,
            created_at=moment,
        )
    )
    db.session.flush()
    day = db.session.scalar(text("SELECT day FROM sales_daily WHERE n > 0"))
    assert day == "2026-03-09"


def test_cli_rebuilds_the_summaries(app, runner):
    _seed(20)
    db.session.execute(text("UPDATE sales_daily SET n = n + 3"))
    db.session.commit()
    result = runner.invoke(args=["db", "rebuild-summaries"])
    assert result.exit_code == 0 and "Resumos recalculados" in result.output
    db.session.rollback()
    assert_summaries_match()


def test_every_summary_table_is_recomputed_and_emptied_between_tests():
    from app.models.summaries import SUMMARY_TABLES

    assert set(SUMMARY_TABLES) == set(summaries.COLUMNS) == set(TABLES)


def test_migrated_triggers_are_the_code_s_triggers(app):
    """The database at head runs the trigger text app.services.summaries holds (a change
    there needs a migration)."""
    if db.session.get_bind().dialect.name != "sqlite":
        return  # PostgreSQL: the behaviour tests above run on its plpgsql functions
    stored = set(
        db.session.scalars(
            text(
                "SELECT sql FROM sqlite_master "
                "WHERE type = 'trigger' AND tbl_name != 'audit_entries'"
            )
        )
    )
    assert stored == set(summaries.trigger_statements("sqlite"))
