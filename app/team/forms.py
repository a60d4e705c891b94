from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from app.access.forms import choices
from app.auth.forms import PASSWORD_MISMATCH
from app.models import OPERATOR_OPERATOR, OPERATOR_ROLES

ROLE_CHOICES = choices(OPERATOR_ROLES.items())


class InviteForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired("Informe o e-mail."), Length(max=254)])
    # The choice is checked by app.services.team (a pt-BR message, not WTForms' English one).
    role = SelectField(
        "Papel", choices=ROLE_CHOICES, default=OPERATOR_OPERATOR, validate_choice=False
    )


class RoleForm(FlaskForm):
    role = SelectField("Papel", choices=ROLE_CHOICES, validate_choice=False)


class ConfirmForm(FlaskForm):
    """A button that only needs its CSRF token (remove an operator, cancel an invite)."""


class AcceptInviteForm(FlaskForm):
    name = StringField("Seu nome", validators=[DataRequired("Informe seu nome."), Length(max=120)])
    password = PasswordField("Senha", validators=[DataRequired("Escolha uma senha.")])
    password_confirm = PasswordField(
        "Confirme a senha",
        validators=[DataRequired("Repita a senha."), EqualTo("password", PASSWORD_MISMATCH)],
    )
