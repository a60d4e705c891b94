"""The base of every form: WTForms' own messages ("This field is required.", "Field cannot be
longer than 120 characters.") in Portuguese, from the translations WTForms ships."""

from __future__ import annotations

from functools import cache

from flask_wtf import FlaskForm
from wtforms.i18n import get_translations


@cache
def _portuguese():
    return get_translations(["pt_BR", "pt"])


class Form(FlaskForm):
    """A ``FlaskForm`` whose built-in validator messages are in Portuguese (the app has no
    Flask-Babel, so Flask-WTF's own i18n would answer in English)."""

    class Meta(FlaskForm.Meta):
        def get_translations(self, form):
            return _portuguese()
