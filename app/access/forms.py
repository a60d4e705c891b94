"""Forms of /acessos: an access item and a rule mapping a product to items."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from wtforms import IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app.forms import Form
from app.models.access_catalogue import KIND_TELEGRAM, KINDS

try:  # WTForms 3.3 deprecates (value, label) tuples for SelectChoice
    from wtforms.fields.choices import SelectChoice
except ImportError:  # pragma: no cover - older WTForms
    SelectChoice = None


def choices(pairs) -> list:
    """``(value, label)`` pairs as the installed WTForms wants select options."""
    pairs = list(pairs)
    return [SelectChoice(v, label) for v, label in pairs] if SelectChoice else pairs


# A chat id as the Bot API takes it: -100… for groups and channels, or @username of a channel.
CHAT_ID_RE = re.compile(r"^(-?\d{1,20}|@[A-Za-z][A-Za-z0-9_]{3,31})$")


class ChoiceField(SelectField):
    """A select whose refusal of an unknown value reads in Portuguese."""

    def pre_validate(self, form):
        try:
            super().pre_validate(form)
        except ValidationError:
            raise ValidationError("Escolha uma opção da lista.") from None


class NumberField(IntegerField):
    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError("Use um número inteiro, por exemplo 0 ou 10.") from None


class ItemForm(Form):
    kind = ChoiceField("Tipo", choices=choices(KINDS.items()))
    title = StringField(
        "Nome",
        validators=[
            DataRequired("Dê um nome ao item."),
            Length(max=255, message="Use no máximo 255 caracteres."),
        ],
    )
    url = StringField(
        "Link", validators=[Optional(), Length(max=2000, message="Use no máximo 2000 caracteres.")]
    )
    chat_id = StringField(
        "Id do grupo ou canal",
        validators=[Optional(), Length(max=64, message="Use no máximo 64 caracteres.")],
    )
    instructions = TextAreaField(
        "Instruções para o comprador",
        validators=[Optional(), Length(max=5000, message="Use no máximo 5000 caracteres.")],
    )

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        url = (self.url.data or "").strip()
        chat = (self.chat_id.data or "").strip()
        if self.kind.data == KIND_TELEGRAM:
            if not chat:
                self.chat_id.errors.append("Informe o id do grupo ou canal (ex.: -1001234567890).")
                ok = False
            elif not CHAT_ID_RE.match(chat):
                self.chat_id.errors.append(
                    "Id inválido: use o número do grupo (ex.: -1001234567890) ou @canal."
                )
                ok = False
        elif not url:
            self.url.errors.append("Informe o link (começando com https://).")
            ok = False
        elif (
            urlsplit(url).scheme not in ("http", "https")
            or not urlsplit(url).netloc
            or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url)
        ):
            self.url.errors.append("Link inválido: use um endereço começando com https://.")
            ok = False
        return ok


STALE_ITEMS = "Um dos itens não existe mais: recarregue a página."


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(STALE_ITEMS) from None

    def pre_validate(self, form):
        try:
            super().pre_validate(form)
        except ValidationError:
            raise ValidationError(STALE_ITEMS) from None


class RuleForm(Form):
    product = ChoiceField("Produto", validators=[DataRequired("Escolha o produto.")])
    offer_code = StringField(
        "Oferta ou plano (opcional)",
        validators=[Optional(), Length(max=255, message="Use no máximo 255 caracteres.")],
        description="Código da oferta ou nome do plano. Vazio: todas as ofertas do produto.",
    )
    priority = NumberField(
        "Prioridade",
        default=0,
        validators=[Optional(), NumberRange(-1000, 1000, "Use um número entre -1000 e 1000.")],
        description="Quando mais de uma regra vale para a venda, vale a de maior prioridade.",
    )
    items = MultiCheckboxField("Itens liberados", coerce=int)

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if not self.items.data:
            self.items.errors = [*self.items.errors, "Marque pelo menos um item."]
            ok = False
        return ok
