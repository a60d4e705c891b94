from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from app.auth.forms import PASSWORD_MISMATCH
from app.forms import Form


class ProfileForm(Form):
    name = StringField("Nome", validators=[DataRequired("Informe seu nome."), Length(max=120)])


class ChangePasswordForm(Form):
    current_password = PasswordField(
        "Senha atual", validators=[DataRequired("Informe a senha atual.")]
    )
    password = PasswordField("Nova senha", validators=[DataRequired("Escolha uma nova senha.")])
    password_confirm = PasswordField(
        "Confirme a nova senha",
        validators=[DataRequired("Confirme a nova senha."), EqualTo("password", PASSWORD_MISMATCH)],
    )


class NewInviteForm(Form):
    """ "Gerar novo link" of one Telegram chat (the chat id as configured)."""

    chat = HiddenField(validators=[DataRequired(), Length(max=64)])
