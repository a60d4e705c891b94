"""Backfill: the sales made before a push was turned on, queued for Kommo / Gestão Click.

``plan(since, targets)`` is the dry run: per target, how many real sales of the period (still
sold: ``GRANTING_STATUSES``, not tests, dated by ``Sale.listed_at`` from ``since``, a São
Paulo day) have no delivery yet, and how many already have one (sent, queued or failed).
``queue(since, targets)`` writes the missing rows with the **same dedupe keys** the live
hooks use (``automations.granted_step``) in ``INSERT … ON CONFLICT DO NOTHING`` batches, so
a sale and step is never queued twice — not by a second click, a concurrent backfill or the
sale's own webhook.

The rows go through the outbox's sender like any other, under each API's shared rate budget.
So that a backlog neither starves the live sales nor takes the whole budget, they are spread
out: row *n* is due ``n × spacing`` from now, where the spacing gives the backfill at most
``BACKFILL_SHARE`` of the budget (Kommo's requests per second; Gestão Click's per second and
per day) at the requests one sale costs (``REQUESTS_PER_SALE``). With the budget off (0, the
tests) they are all due at once.

From /automacoes the queueing runs **off the request** (about 4.3 s per 5,000 sales on SQLite:
a large history timed the request out): ``start`` writes an ``AutomationBackfill`` row and
hands it to the background pool (``app.services.sync.pool``, like "Sincronizar"); ``execute``
queues, recording the rows written so far and a heartbeat with each batch's commit, and the
page shows it (``status_text``). Its unique ``active`` column keeps it to one at a time: a
second click, or another process, gets the one going. A backfill whose process died (no
heartbeat for ``STALE_AFTER``; queued and never started for ``QUEUED_STALE_AFTER``) is marked
failed when the next one starts. The CLI still queues in its own process, synchronously.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import and_, distinct, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from app import events
from app.database import retry_on_lock
from app.extensions import db
from app.formatting import DISPLAY_TZ, number
from app.models import Sale
from app.models.automation import (
    BACKFILL_ACTIVE,
    BACKFILL_DONE,
    BACKFILL_FAILED,
    BACKFILL_QUEUED,
    BACKFILL_RUNNING,
    DELIVERY_FAILED,
    DELIVERY_PENDING,
    DELIVERY_SENDING,
    STEP_CONTACT_LEAD,
    STEP_RENEWAL,
    STEP_VENDA,
    TARGET_GESTAO_CLICK,
    TARGET_KOMMO,
    AutomationBackfill,
    AutomationDelivery,
    buyer_columns,
)
from app.models.sales import GRANTING_STATUSES
from app.models.types import utcnow
from app.plurals import ngettext, plural
from app.registry import join_pt
from app.services import automations
from app.services.bulk import insert_for
from app.services.queue import start_queued

TARGETS = (TARGET_KOMMO, TARGET_GESTAO_CLICK)
NAMES = {TARGET_KOMMO: "Kommo", TARGET_GESTAO_CLICK: "Gestão Click"}
SWITCHES = {
    TARGET_KOMMO: automations.KOMMO_SWITCH,
    TARGET_GESTAO_CLICK: automations.GESTAOCLICK_SWITCH,
}
STEPS = {TARGET_KOMMO: (STEP_CONTACT_LEAD, STEP_RENEWAL), TARGET_GESTAO_CLICK: (STEP_VENDA,)}
# The period choices of /automacoes: days back (None: every sale).
PERIODS = {"30": 30, "90": 90, "tudo": None}
PERIOD_LABELS = {"30": "Últimos 30 dias", "90": "Últimos 90 dias", "tudo": "Todas as vendas"}
# Requests one sale costs, about: Kommo — contact search by e-mail (and phone), the lead (or
# leads/complex) and the note; Gestão Click — cliente searches, produto search, the venda.
REQUESTS_PER_SALE = {TARGET_KOMMO: 4, TARGET_GESTAO_CLICK: 6}
BACKFILL_SHARE = 0.5  # of each budget; the rest is the live sales' and the syncs'
GESTAO_CLICK_DAILY = 30_000  # requests per day and company (PLATFORMS-WRITES.md §3.1)
BATCH = 500
UNEXPECTED_ERROR = "Houve um erro inesperado; os detalhes ficaram no registro do servidor."
STALE_AFTER = timedelta(minutes=10)  # running, no heartbeat: its process died
QUEUED_STALE_AFTER = timedelta(hours=1)  # queued behind the pool's syncs for this long: lost


class BackfillError(ValueError):
    """A request the backfill refuses: a pt-BR message for the page, and for the CLI the
    server settings involved (``technical``: names a seller never reads on the page)."""

    def __init__(self, message: str, technical: str = ""):
        super().__init__(message)
        self.technical = technical


@dataclass(frozen=True)
class TargetPlan:
    target: str
    to_send: int  # real sales of the period without a delivery of this target
    already: int  # … with one (sent, on its way or failed: "Tentar de novo" is for those)
    spacing: float  # seconds between two queued rows

    @property
    def name(self) -> str:
        return NAMES[self.target]

    @property
    def duration(self) -> timedelta:
        return timedelta(seconds=self.spacing * max(self.to_send - 1, 0))

    def summary(self) -> str:
        """ "12 vendas serão enviadas ao Kommo, 3 já estão lá" (real plurals, pt-BR numbers)."""
        if self.to_send:
            verb = plural(self.to_send, "venda será enviada", "vendas serão enviadas")
            what = f"{number(self.to_send)} {verb} ao {self.name}"
        else:
            what = f"Nenhuma venda a enviar ao {self.name}"
        if self.already:
            verb = plural(self.already, "já está lá (ou na fila)", "já estão lá (ou na fila)")
            return f"{what}; {number(self.already)} {verb}."
        return f"{what}."


def since_of(period: str | None, today: date | None = None) -> date | None:
    """The first São Paulo day of a period of ``PERIODS`` (``None``: every sale)."""
    if period not in PERIODS:
        raise BackfillError("Escolha um período: últimos 30 dias, últimos 90 dias ou todas.")
    days = PERIODS[period]
    if days is None:
        return None
    today = today or datetime.now(DISPLAY_TZ).date()
    return today - timedelta(days=days - 1)


def _start(since: date | None) -> datetime | None:
    if since is None:
        return None
    return datetime.combine(since, time.min, tzinfo=DISPLAY_TZ)


def _sold(since: date | None):
    cond = [Sale.status.in_(sorted(GRANTING_STATUSES)), Sale.is_test.is_(False)]
    start = _start(since)
    if start is not None:
        cond.append(Sale.listed_at >= start)
    return and_(*cond)


def _has_delivery(target: str):
    return exists().where(
        AutomationDelivery.sale_id == Sale.id,
        AutomationDelivery.target == target,
        AutomationDelivery.step.in_(STEPS[target]),
    )


def spacing(target: str) -> float:
    """Seconds between two backfilled rows of ``target`` (0: its budget is off)."""
    from app.registry import integration as declared
    from app.services.integration import cfg

    integ = declared(target)
    pace = cfg(integ, integ.rate_budget.setting)
    per_second = float(integ.rate_budget.per_second if pace in (None, "") else pace)
    if per_second <= 0:
        return 0.0
    cost = REQUESTS_PER_SALE[target]
    seconds = cost / (per_second * BACKFILL_SHARE)
    if target == TARGET_GESTAO_CLICK:
        seconds = max(seconds, cost * 86_400 / (GESTAO_CLICK_DAILY * BACKFILL_SHARE))
    return seconds


def check_targets(targets: tuple[str, ...]) -> tuple[str, ...]:
    """The asked targets, each switched on (else a pt-BR refusal)."""
    enabled = automations.enabled_targets()
    chosen = tuple(t for t in TARGETS if t in targets)
    if not chosen:
        raise BackfillError("Escolha para onde enviar: Kommo, Gestão Click ou os dois.")
    off = [t for t in chosen if t not in enabled]
    if off:
        names = " e ".join(NAMES[t] for t in off)
        raise BackfillError(
            f"O envio de vendas ao {names} está desligado: ligue-o nesta página, em "
            "Automações, antes de enviar as vendas anteriores.",
            technical=", ".join(SWITCHES[t] for t in off),
        )
    return chosen


def plan(since: date | None, targets: tuple[str, ...]) -> list[TargetPlan]:
    """The dry run: counts only, nothing written."""
    out = []
    for target in check_targets(targets):
        sold = _sold(since)
        has = _has_delivery(target)
        to_send = db.session.scalar(select(func.count()).select_from(Sale).where(sold, ~has))
        already = db.session.scalar(select(func.count()).select_from(Sale).where(sold, has))
        out.append(TargetPlan(target, int(to_send or 0), int(already or 0), spacing(target)))
    return out


def queue(
    since: date | None,
    targets: tuple[str, ...],
    progress: Callable[[dict[str, int]], None] | None = None,
) -> dict[str, int]:
    """Queue the period's sales without a delivery; target → rows written. Commits per
    batch (the commit kicks the sender); ``progress(counts so far)`` runs before each
    batch's commit, in its transaction."""
    counts: dict[str, int] = {}
    for target in check_targets(targets):
        gap = spacing(target)
        now, written, last_id = utcnow(), 0, 0
        table = AutomationDelivery.__table__
        while True:
            sales = db.session.scalars(
                select(Sale)
                .where(_sold(since), ~_has_delivery(target), Sale.id > last_id)
                .order_by(Sale.id)
                .limit(BATCH)
            ).all()
            if not sales:
                break
            last_id = sales[-1].id
            rows = []
            for sale in sales:
                step, subject = automations.granted_step(target, sale, sale.recurrence_number or 0)
                payload = automations.snapshot(sale, recurrence_number=sale.recurrence_number)
                rows.append(
                    {
                        "target": target,
                        "step": step,
                        "dedupe_key": f"{target}:{step}:{subject}"[:255],
                        "sale_id": sale.id,
                        **buyer_columns(payload),  # what the ORM's hook sets on a live row
                        "payload": payload,
                        "status": "pending",
                        "attempts": 0,
                        "note_added": False,
                        "next_attempt_at": now + timedelta(seconds=gap * (written + len(rows))),
                        "created_at": now,
                        "updated_at": now,
                    }
                )
            # executemany ("insertmanyvalues" batches): .values(rows) compiled the 500 rows'
            # parameters on every batch, half of the time the queueing took
            stmt = insert_for(table).on_conflict_do_nothing(index_elements=["dedupe_key"])
            written += len(db.session.execute(stmt.returning(table.c.id), rows).all())
            events.mark_automations_queued()
            if progress is not None:
                progress({**counts, target: written})
            db.session.commit()
            current_app.logger.info("backfill %s: %s rows queued so far", target, written)
        counts[target] = written
    return counts


def period_label(since: date | None) -> str:
    return f"vendas desde {since.strftime('%d/%m/%Y')}" if since else "todas as vendas"


def record(since: date | None, counts: dict[str, int], **actor) -> None:
    """The audit entry of one backfill (the caller's actor: the operator, or the CLI)."""
    from app.services import audit

    queued = ", ".join(f"{NAMES[t]}: {number(n)}" for t, n in counts.items())
    audit.record(
        audit.AUTOMATION_BACKFILL,
        target_type="automation_delivery",
        details={"period": period_label(since), "queued": queued, "counts": counts},
        **actor,
    )
    db.session.commit()


# ---------------------------------------------------------------------------- in the background


def latest() -> AutomationBackfill | None:
    """The backfill going now, else the last one (for /automacoes)."""
    return db.session.scalar(
        select(AutomationBackfill)
        .order_by(AutomationBackfill.active.is_(None), AutomationBackfill.id.desc())
        .limit(1)
    )


def _active() -> AutomationBackfill | None:
    return db.session.scalar(
        select(AutomationBackfill).where(AutomationBackfill.active == BACKFILL_ACTIVE)
    )


def looks_stale(run: AutomationBackfill, now: datetime | None = None) -> bool:
    """Whether ``release_stale`` would fail this active backfill now (the same limits)."""
    now = now or utcnow()
    if run.status == BACKFILL_RUNNING:
        return run.heartbeat_at is not None and run.heartbeat_at < now - STALE_AFTER
    return run.status == BACKFILL_QUEUED and run.created_at < now - QUEUED_STALE_AFTER


def release_stale() -> int:
    """Fail the backfill whose process died (see ``STALE_AFTER``), freeing its place. Run
    before each start and by the scheduler's ``stale_sync_runs`` job; the caller commits."""
    now = utcnow()
    result = db.session.execute(
        update(AutomationBackfill)
        .where(
            AutomationBackfill.active == BACKFILL_ACTIVE,
            or_(
                (AutomationBackfill.status == BACKFILL_RUNNING)
                & (AutomationBackfill.heartbeat_at < now - STALE_AFTER),
                (AutomationBackfill.status == BACKFILL_QUEUED)
                & (AutomationBackfill.created_at < now - QUEUED_STALE_AFTER),
            ),
        )
        .values(
            status=BACKFILL_FAILED,
            active=None,
            finished_at=now,
            error="O envio foi interrompido (o servidor reiniciou ou parou no meio).",
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def start(
    since: date | None, targets: tuple[str, ...], requested_by_id: int | None = None
) -> tuple[AutomationBackfill, bool]:
    """Queue a backfill in the background pool → (the backfill, created). One at a time:
    while one is queued or running, that one is returned (``created`` False). Refusals
    (a target switched off, none chosen) raise ``BackfillError`` here, in the request."""
    chosen = check_targets(targets)
    for _ in range(3):
        release_stale()
        going = _active()
        if going is not None:
            db.session.commit()
            return going, False
        now = utcnow()
        run = AutomationBackfill(
            status=BACKFILL_QUEUED,
            active=BACKFILL_ACTIVE,
            since=since,
            targets=",".join(chosen),
            counts={},
            requested_by_id=requested_by_id,
            created_at=now,
            heartbeat_at=now,
        )
        db.session.add(run)
        try:
            db.session.commit()
        except IntegrityError:  # another click's won the unique ``active``: that one
            db.session.rollback()
            continue
        from app.services.sync.pool import submit_task

        key = ("automation_backfill", run.id)
        submit_task(current_app._get_current_object(), key, _execute_key, f"backfill {run.id}")
        return run, True
    raise BackfillError("Não foi possível começar o envio agora; tente de novo.")


def _execute_key(key: tuple[str, int]) -> None:
    execute(key[1])


def _progress(run_id: int, counts: dict[str, int]) -> None:
    db.session.execute(
        update(AutomationBackfill)
        .where(AutomationBackfill.id == run_id)
        .values(counts=counts, heartbeat_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def execute(run_id: int) -> None:
    """Run a queued backfill (the pool's thread): queue its sales, then record how it
    ended, the audit entry under the operator who asked. Never raises."""
    from app.models import User

    if not start_queued(
        AutomationBackfill,
        run_id,
        queued=BACKFILL_QUEUED,
        running=BACKFILL_RUNNING,
        what="backfill claim",
    ):
        return  # marked stale before it could start
    run = db.session.get(AutomationBackfill, run_id)
    since, targets, by = run.since, run.target_list, run.requested_by_id
    counts: dict[str, int] = {}

    def seen(so_far: dict[str, int]) -> None:
        counts.update(so_far)
        _progress(run_id, so_far)

    status, error = BACKFILL_DONE, None
    try:
        counts = queue(since, targets, progress=seen)
    except BackfillError as exc:  # switched off between the click and the run
        db.session.rollback()
        status, error = BACKFILL_FAILED, str(exc)
    except Exception:
        db.session.rollback()
        # The page shows this sentence; the exception (its SQL, the buyers' data) only the log.
        status, error = BACKFILL_FAILED, UNEXPECTED_ERROR
        current_app.logger.exception("backfill %s failed", run_id)

    def finish() -> None:
        db.session.execute(
            update(AutomationBackfill)
            .where(AutomationBackfill.id == run_id)
            .values(status=status, error=error, active=None, finished_at=utcnow(), counts=counts)
            .execution_options(synchronize_session=False)
        )
        if status == BACKFILL_DONE:
            user = db.session.get(User, by) if by else None
            record(since, counts, **({"actor": user} if user is not None else {}))
        db.session.commit()

    retry_on_lock(finish, what="backfill result")


def _run_deliveries(run: AutomationBackfill) -> tuple[int, dict[str, int]]:
    """(distinct sales, rows by status) of what ``run`` queued: its targets' rows written
    while it ran (a live sale queued in those same seconds counts too)."""
    if run.started_at is None:
        return 0, {}
    written = (
        AutomationDelivery.target.in_(run.target_list),
        AutomationDelivery.created_at >= run.started_at,
        AutomationDelivery.created_at <= (run.finished_at or utcnow()),
    )
    sales = db.session.scalar(
        select(func.count(distinct(AutomationDelivery.sale_id))).where(*written)
    )
    by_status = dict(
        db.session.execute(
            select(AutomationDelivery.status, func.count())
            .where(*written)
            .group_by(AutomationDelivery.status)
        ).all()
    )
    return int(sales or 0), by_status


def status_text(run: AutomationBackfill | None) -> tuple[str, str] | None:
    """(Bootstrap level, pt-BR sentence) of the backfill for /automacoes; None: never ran.
    Green only once every row it queued went out; blue while they are still leaving."""
    if run is None:
        return None
    counts = run.counts or {}
    per_target = join_pt(
        [f"{number(int(counts.get(t, 0)))} para o {NAMES.get(t, t)}" for t in run.target_list]
    )
    n = run.queued
    distinct_sales, by_status = _run_deliveries(run) if n else (0, {})
    # one sale sent to two places is one sale; without its rows, the largest target's count
    sales_n = distinct_sales or max((int(c) for c in counts.values()), default=0)
    sales = ngettext("%(num)s venda entrou", "%(num)s vendas entraram", sales_n)
    what = f"{period_label(run.since)}"
    if run.is_active and looks_stale(run):
        return "warning", (
            f"O envio das vendas anteriores ({what}) parece ter parado (o servidor reiniciou "
            f"ou parou no meio); {sales} na fila até agora. Confirme de novo para continuar — "
            "as que já estão na fila não são enviadas duas vezes."
        )
    if run.is_active:
        if run.status == BACKFILL_QUEUED:
            return "info", f"O envio das vendas anteriores ({what}) vai começar em instantes."
        return (
            "info",
            f"Enviando as vendas anteriores ({what}): {sales} na fila até agora — "
            f"{per_target}. Atualize a página para acompanhar.",
        )
    if run.status == BACKFILL_FAILED:
        before = f"{sales} na fila antes disso" if n else "nenhuma venda tinha entrado na fila"
        return (
            "warning",
            f"O último envio das vendas anteriores ({what}) parou: {run.error} "
            f"{before[0].upper()}{before[1:]}; confirme de novo para continuar — as que já "
            "estão na fila não são enviadas duas vezes.",
        )
    if not n:
        return "secondary", (
            f"Último envio das vendas anteriores ({what}): nenhuma venda a enviar — "
            "todas já estavam lá."
        )
    head = f"Vendas anteriores ({what}) — "
    waiting = by_status.get(DELIVERY_PENDING, 0) + by_status.get(DELIVERY_SENDING, 0)
    failed = by_status.get(DELIVERY_FAILED, 0)
    if waiting:
        return "info", (f"{head}{sales} na fila: {per_target}. Acompanhe em Envios, abaixo.")
    if failed:
        return "warning", (
            f"{head}{sales} na fila: {per_target}. "
            f"{ngettext('%(num)s envio falhou', '%(num)s envios falharam', failed)}: "
            "veja “Falhou” em Envios, abaixo."
        )
    sent = ngettext("%(num)s venda enviada", "%(num)s vendas enviadas", sales_n)
    return "success", f"{head}{sent}: {per_target}."
