"""The API integration declarations (app.registry) are what the app runs: every declared
resource is a registered syncer, every page/API endpoint exists, every tunable has a default,
and the shared service functions behave the same for the three integrations."""

from __future__ import annotations

import inspect

import pytest

from app import registry
from app.services import integration, sync

NAMES = [i.name for i in registry.INTEGRATIONS]


@pytest.mark.parametrize("name", NAMES)
def test_declared_resources_are_the_registered_syncers(app, name):
    integ = registry.integration(name)
    with app.app_context():
        registered = {s.resource: s for s in sync.syncers(name)}
        assert set(registered) == {r.name for r in integ.resources}
        for resource in integ.resources:
            syncer = registered[resource.name]
            assert (syncer.label, syncer.interval) == (resource.label, resource.interval)
            assert sync.source_label(name) == integ.label


@pytest.mark.parametrize("name", NAMES)
def test_declared_urls_exist(app, name):
    integ = registry.integration(name)
    posts = {rule.rule for rule in app.url_map.iter_rules() if "POST" in rule.methods}
    endpoints = {rule.endpoint: rule for rule in app.url_map.iter_rules()}
    assert integ.page.endpoint in endpoints and integ.nav_endpoint == integ.page.endpoint
    test_rule = endpoints[integ.page.test_endpoint]
    assert integ.page.test_method.upper() in test_rule.methods
    assert test_rule.rule.startswith(integ.api_prefix)
    for resource in integ.resources:
        url = integ.sync_url_for(resource.name)
        assert url == f"/api/sync/{name}/{resource.name}" or url in posts, url


@pytest.mark.parametrize("name", NAMES)
def test_hooks_and_tunables(app, name):
    integ = registry.integration(name)
    hooks = integration.hooks(integ)
    connect, read = integ.timeouts
    for key in (connect, read, integ.rate_budget.setting):
        assert key in hooks.defaults, key
    assert hooks.missing_message
    # The client spends the budget the declaration names.
    client_module = inspect.getmodule(hooks.client(dict.fromkeys(f.key for f in integ.fields)))
    assert f'apply_budget("{integ.rate_budget.name}"' in inspect.getsource(client_module)


@pytest.mark.parametrize("name", NAMES)
def test_shared_functions_without_credentials(app, name):
    integ = registry.integration(name)
    with app.app_context():
        assert integration.is_configured(integ) is False
        result = integration.test_connection(integ)
        assert (
            result.success is False and result.message == integration.hooks(integ).missing_message
        )
        with pytest.raises(sync.SyncNotConfigured):
            integration.client_for_sync(integ)
        info = integration.overview(integ)
        assert info["configured"] is False and info["status"]["state"] == "missing"
        assert set(info["sources"]) == {f.key for f in integ.fields}
        assert all(info["sources"][key] == "unset" for key in integ.required)


def test_only_the_email_group_declares_a_save_hook():
    hooked = [g.platform for g in registry.settings_schema() if g.on_change is not None]
    assert hooked == ["email"]
