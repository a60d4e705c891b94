"""One real sync in its own OS process, for test_shared_budget (a helper, not a test module).

``python shared_budget_child.py '<json spec>'``: builds the app on the shared database with the
given config, says it is ready, waits for the go file (so both processes start together), runs
``sync.run_sync`` and prints the run as one JSON line, with the start of every budget slot
the process booked (``slots``, Unix seconds, from the shared store's answers) and whether the
budget ever fell back to a process-local store (``fell_back``).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _record_slots() -> tuple[list[float], list[bool]]:
    """Wrap the shared stores' ``reserve``: a booked claim starts ``wait`` after ``now``."""
    from app.clients import budget
    from app.services.rate_budget import DatabaseBudgetStore

    slots: list[float] = []
    fell_back: list[bool] = []
    for store in (DatabaseBudgetStore, budget.RedisBudgetStore):
        original = store.reserve

        def reserve(self, key, interval, now, max_wait, _original=original):
            booked, wait = _original(self, key, interval, now, max_wait)
            if booked:
                slots.append(now + wait)
            return booked, wait

        store.reserve = reserve
    original_fallback = budget.RateBudget._fallback

    def fallback(self, exc):
        fell_back.append(True)
        return original_fallback(self, exc)

    budget.RateBudget._fallback = fallback
    return slots, fell_back


def main() -> int:
    from app import create_app
    from tests.conftest import make_config

    slots, fell_back = _record_slots()

    spec = json.loads(sys.argv[1])
    config = make_config(spec["database_url"], **spec["config"])
    app = create_app(config, instance_path=spec["instance"])
    with app.app_context():
        from app.services import sync

        Path(spec["ready"]).touch()
        deadline = time.monotonic() + 120
        while not Path(spec["go"]).exists():
            if time.monotonic() > deadline:
                print(json.dumps({"status": "no-go"}))
                return 2
            time.sleep(0.01)
        run = sync.run_sync(spec["source"], spec["resource"], full=True)
        print(
            json.dumps(
                {
                    "id": run.id,
                    "status": run.status,
                    "error": run.error,
                    "created": run.created_count,
                    "slots": slots,
                    "fell_back": bool(fell_back),
                }
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
