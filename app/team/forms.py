from wtforms import EmailField, SelectField
from wtforms.validators import DataRequired, Length

from app.access.forms import choices
from app.forms import Form
from app.models import OPERATOR_OPERATOR, OPERATOR_ROLES
from app.signup.forms import SignupForm

ROLE_CHOICES = choices(OPERATOR_ROLES.items())


class InviteForm(Form):
    email = EmailField("E-mail", validators=[DataRequired("Informe o e-mail."), Length(max=254)])
    # The choice is checked by app.services.team (a pt-BR message, not WTForms' English one).
    role = SelectField(
        "Papel", choices=ROLE_CHOICES, default=OPERATOR_OPERATOR, validate_choice=False
    )


class RoleForm(Form):
    role = SelectField("Papel", choices=ROLE_CHOICES, validate_choice=False)


class ConfirmForm(Form):
    """A button that only needs its CSRF token (remove an operator, cancel an invite)."""


class AcceptInviteForm(SignupForm):
    """The invitee's name and password: the same fields and rules as a buyer's sign-up."""
