"""Every form of the app speaks Portuguese: each derives from ``app.forms.Form``, whose
built-in WTForms messages come from WTForms' Portuguese translations."""

from __future__ import annotations

import importlib
import pkgutil

from flask_wtf import FlaskForm

import app as app_package
from app.forms import Form


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def test_every_form_derives_from_the_portuguese_base():
    for module in pkgutil.walk_packages(app_package.__path__, "app."):
        importlib.import_module(module.name)
    forms = [f for f in _all_subclasses(FlaskForm) if f.__module__.startswith("app.")]
    assert len(forms) > 10
    english = [f"{f.__module__}.{f.__name__}" for f in forms if not issubclass(f, Form)]
    assert not english, english


def test_the_base_answers_in_portuguese(app):
    from wtforms import StringField
    from wtforms.validators import DataRequired

    class Probe(Form):
        name = StringField("Nome", validators=[DataRequired()])

    with app.test_request_context(method="POST", data={}):
        form = Probe(meta={"csrf": False})
        assert not form.validate()
        assert form.errors["name"] and "required" not in form.errors["name"][0].lower()
