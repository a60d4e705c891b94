"""``GET|POST /api/gestao-click/sync-schedule`` (seed 003, SPEC §9): the Gestão Click import's
interval, ``{"interval_minutes": N, "enabled": bool}``.

Stored where /configuracoes keeps every schedule (``JobSetting`` per job, via
``app.services.jobs``): one value here sets the sales, clients and products jobs alike (or just
those in ``"resources"``), and the scheduler's leader applies it at once (others within a
renewal). The answer also lists each job, since /configuracoes may give them different values.
"""

from __future__ import annotations

from flask import abort, current_app, jsonify, request
from flask_login import current_user

from app.api import bp
from app.extensions import db
from app.services import audit
from app.services import jobs as jobs_service

MIN_MINUTES = jobs_service.MIN_INTERVAL_SECONDS // 60
MAX_MINUTES = jobs_service.MAX_INTERVAL_SECONDS // 60
BOOLEANS = {True: True, False: False, "true": True, "false": False, "1": True, "0": False}


def _jobs() -> dict[str, jobs_service.Job]:
    from app.services import gestao_click

    catalogue = jobs_service.catalogue()
    found = {
        r: jobs_service.find(f"sync:{gestao_click.SOURCE}:{r}", catalogue)
        for r in gestao_click.RESOURCES
    }
    return {r: job for r, job in found.items() if job is not None}


def _state() -> dict:
    jobs = _jobs()
    settings = jobs_service.settings_map()
    resources = {}
    for resource, job in jobs.items():
        setting = settings.get(job.id)
        interval, enabled = jobs_service.effective(job, setting)
        next_run = setting.next_run_at if setting is not None and enabled else None
        resources[resource] = {
            "job_id": job.id,
            "label": job.label,
            "interval_minutes": max(1, round(interval / 60)),
            "default_minutes": max(1, round(job.default_interval / 60)),
            "enabled": enabled,
            "next_run_at": next_run.isoformat() if next_run else None,
        }
    main = resources.get("sales") or next(iter(resources.values()), None)
    minutes = {r["interval_minutes"] for r in resources.values()}
    return {
        "interval_minutes": main["interval_minutes"] if main else None,
        "enabled": bool(resources) and all(r["enabled"] for r in resources.values()),
        "uniform": len(minutes) <= 1,
        "resources": resources,
    }


@bp.get("/api/gestao-click/sync-schedule")
def gestao_click_schedule():
    return jsonify({"success": True, **_state()})


def _minutes(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        abort(400, description="interval_minutes deve ser um número inteiro de minutos.")
    text = str(value).strip()
    if not (text.isascii() and text.isdecimal()) or len(text) > 6:
        abort(400, description="interval_minutes deve ser um número inteiro de minutos.")
    minutes = int(text)
    if not MIN_MINUTES <= minutes <= MAX_MINUTES:
        abort(
            400,
            description=f"interval_minutes deve ficar entre {MIN_MINUTES} e {MAX_MINUTES} "
            "(7 dias).",
        )
    return minutes


@bp.post("/api/gestao-click/sync-schedule")
def gestao_click_set_schedule():
    from app import scheduler

    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        abort(400, description='Envie um objeto JSON: {"interval_minutes": 60, "enabled": true}.')
    unknown = set(payload) - {"interval_minutes", "enabled", "resources"}
    if unknown:
        abort(400, description="Campos desconhecidos: " + ", ".join(sorted(map(str, unknown))))
    if "interval_minutes" not in payload and "enabled" not in payload:
        abort(400, description="Informe interval_minutes e/ou enabled.")
    minutes = _minutes(payload["interval_minutes"]) if "interval_minutes" in payload else None
    enabled = None
    if "enabled" in payload:
        raw = payload["enabled"]
        key = raw.strip().lower() if isinstance(raw, str) else raw
        if not isinstance(key, bool | str) or key not in BOOLEANS:
            abort(400, description="enabled deve ser true ou false.")
        enabled = BOOLEANS[key]
    jobs = _jobs()
    wanted = payload.get("resources")
    if wanted is not None:
        known = isinstance(wanted, list) and all(isinstance(w, str) and w in jobs for w in wanted)
        if not wanted or not known:
            abort(400, description="resources deve ser uma lista com sales, clients e/ou products.")
        jobs = {r: jobs[r] for r in wanted}
    current = _state()["resources"]
    audited = []
    for resource, job in jobs.items():
        new_minutes = minutes if minutes is not None else current[resource]["interval_minutes"]
        new_enabled = enabled if enabled is not None else current[resource]["enabled"]
        if jobs_service.save(job, new_minutes * 60, new_enabled, by=current_user.email):
            audited.append(
                {
                    "job_id": job.id,
                    "job": job.label,
                    "interval_minutes": new_minutes,
                    "enabled": new_enabled,
                }
            )
    if audited:
        audit.record(audit.SCHEDULES_CHANGED, target_type="schedules", details={"jobs": audited})
    db.session.commit()
    applied = False
    running = scheduler.current(current_app)
    if audited and running is not None and running.is_leader:
        running.reload()
        applied = True
    return jsonify({"success": True, "changed": bool(audited), "applied": applied, **_state()})
