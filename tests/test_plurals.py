"""The one plural helper (app.plurals) every layer and template uses."""

import pytest
from babel import Locale

from app import formatting
from app.plurals import ngettext, plural


@pytest.mark.parametrize(
    ("n", "form"),
    [
        (0, "vendas"),  # zero in the plural, as the pages always wrote it ("0 vendas")
        (1, "venda"),
        (-1, "venda"),
        (1.5, "venda"),  # babel's pt-BR rule: 1,5 hora
        (2, "vendas"),
        (11, "vendas"),
        (1_000, "vendas"),
        (1_000_000, "vendas"),  # CLDR "many": the plural form here
    ],
)
def test_plural_picks_the_form_the_count_asks_for(n, form):
    assert plural(n, "venda", "vendas") == form


def test_babel_alone_would_put_zero_in_the_singular():
    """Why plural() overrides zero: CLDR's pt rule is "i in 0..1", so 0 is "one"."""
    assert Locale.parse("pt_BR").plural_form(0) == "one"
    assert plural(0, "compra aprovada está", "compras aprovadas estão") == (
        "compras aprovadas estão"
    )


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "0 registros falharam"),
        (1, "1 registro falhou"),
        (2, "2 registros falharam"),
        (1_234, "1.234 registros falharam"),
        (1_000_000, "1.000.000 registros falharam"),
    ],
)
def test_ngettext_writes_the_number_the_brazilian_way(n, text):
    assert ngettext("%(num)s registro falhou", "%(num)s registros falharam", n) == text


def test_formatting_and_templates_use_the_same_helper(app):
    assert formatting.ngettext is ngettext and formatting.plural is plural
    with app.app_context():
        render = app.jinja_env.from_string(
            "{{ ngettext('%(num)s venda', '%(num)s vendas', n) }} · "
            "{{ plural(n, 'link', 'links') }}"
        ).render
        assert render(n=1) == "1 venda · link"
        assert render(n=0) == "0 vendas · links"
        assert render(n=2500) == "2.500 vendas · links"
