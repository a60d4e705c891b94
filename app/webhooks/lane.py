"""The webhook lane: a delivery to ``/webhook/*`` runs only the request hooks that do something
for it (issue #13: the ingest path as close as possible to a bare endpoint).

The app's hooks are written for pages: Flask-Limiter evaluates its limits (the webhooks
blueprint is exempt: ``app.ratelimit.webhook_allowed`` counts deliveries instead), Flask-WTF
checks CSRF (exempt), Talisman makes a CSP nonce (no template is rendered), the setup and
unstorable-input guards let the blueprint through, and the session and remember-me hooks act on
a session a delivery never has (``app.security._SessionInterface``). Each of them decides that
again on every delivery. Here they are left out of the webhooks blueprint's requests, named
one by one (``_skipped``); every other hook — the request id, the body-size guard, Talisman's
HTTPS redirect and security headers (copied from Talisman's own answer, computed once per
endpoint and scheme: ``_Lane.security_headers``), the worker start, any hook added later —
still runs, in Flask's order. The hook lists are resolved once per blueprint chain (Flask
forbids adding hooks after the first request), so a delivery pays no ``ensure_sync`` or
lookup per hook.
"""

from __future__ import annotations

from functools import partial
from itertools import chain

from flask import Flask, request
from flask.globals import request_ctx

BLUEPRINT = "webhooks"
_LANE_KEY = "vendas_webhook_lane"


def _skipped(app: Flask) -> tuple[set, set]:
    """(before, after) hooks that have nothing to do for a webhook delivery."""
    from flask_limiter import Limiter

    from app import hostile, security
    from app.extensions import limiter, login_manager, talisman

    # Private names of the extensions: looked up softly, so a library that renames one only
    # stops that hook being skipped (it then runs, as on any page) instead of breaking every
    # delivery. tests/web/test_webhook_lane.py checks that each one is still found.
    before = {
        getattr(limiter, "_check_request_limit", None),
        hostile.reject_unstorable_input,
        security._require_setup,
        getattr(talisman, "_make_nonce", None),
    }
    before.update(
        func
        for func in app.before_request_funcs.get(None, ())
        if getattr(func, "__module__", "") == "flask_wtf.csrf"
        and getattr(func, "__name__", "") == "csrf_protect"
    )
    inject = getattr(Limiter, "_Limiter__inject_headers", None)
    after = {
        security._no_store_when_logged_in,
        getattr(login_manager, "_update_remember_cookie", None),
    }
    after.update(
        func
        for func in app.after_request_funcs.get(None, ())
        if isinstance(func, partial) and func.func is inject
    )
    before.discard(None)
    after.discard(None)
    return before, after


class _Lane:
    def __init__(self, app: Flask):
        from app.extensions import talisman

        self.app = app
        self.skip_before, self.skip_after = _skipped(app)
        self.chains: dict[tuple[str, ...], tuple] = {}
        # Without it (renamed), Talisman's own hook runs per delivery: slower, same headers.
        self.talisman_headers = getattr(talisman, "_set_response_headers", None)
        self.header_sets: dict[tuple, tuple] = {}

    def security_headers(self, response):
        """Talisman's headers, computed by Talisman once per endpoint and scheme and then
        copied: without a CSP nonce (no template here) they depend on nothing else."""
        https = request.is_secure or request.headers.get("X-Forwarded-Proto") == "https"
        key = (request.endpoint, https)
        found = self.header_sets.get(key)
        if found is None:
            blank = self.app.response_class()
            before = set(blank.headers.items())
            self.talisman_headers(blank)
            found = tuple(item for item in blank.headers.items() if item not in before)
            self.header_sets[key] = found
        headers = response.headers
        for name, value in found:
            headers[name] = value
        return response

    def hooks(self, blueprints: tuple[str, ...]) -> tuple:
        found = self.chains.get(blueprints)
        if found is None:
            found = self.chains[blueprints] = self._resolve(blueprints)
        return found

    def _resolve(self, blueprints: tuple[str, ...]) -> tuple:
        app = self.app
        names = (None, *reversed(blueprints))
        url_funcs = tuple(f for n in names for f in app.url_value_preprocessors.get(n, ()))
        before = tuple(
            app.ensure_sync(f)
            for n in names
            for f in app.before_request_funcs.get(n, ())
            if f not in self.skip_before
        )
        after = tuple(
            self.security_headers
            if self.talisman_headers is not None and f == self.talisman_headers
            else app.ensure_sync(f)
            for n in chain(blueprints, (None,))
            for f in reversed(app.after_request_funcs.get(n, ()))
            if f not in self.skip_after
        )
        return url_funcs, before, after


def _lane(app: Flask) -> _Lane:
    found = app.extensions.get(_LANE_KEY)
    if found is None:
        found = app.extensions.setdefault(_LANE_KEY, _Lane(app))
    return found


class LaneFlask(Flask):
    """Flask, with the webhooks blueprint's requests on the lane (everything else unchanged)."""

    def preprocess_request(self):
        if request.blueprint != BLUEPRINT:
            return super().preprocess_request()
        url_funcs, before, _ = _lane(self).hooks(tuple(request.blueprints))
        for func in url_funcs:
            func(request.endpoint, request.view_args)
        for func in before:
            rv = func()
            if rv is not None:
                return rv
        return None

    def process_response(self, response):
        if request.blueprint != BLUEPRINT:
            return super().process_response(response)
        ctx = request_ctx._get_current_object()
        for func in ctx._after_request_functions:
            response = self.ensure_sync(func)(response)
        for func in _lane(self).hooks(tuple(request.blueprints))[2]:
            response = func(response)
        if not self.session_interface.is_null_session(ctx._session):
            self.session_interface.save_session(self, ctx._session, response)
        return response
