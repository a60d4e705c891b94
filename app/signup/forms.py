from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from app.auth.forms import PASSWORD_MISMATCH
from app.forms import Form


class SignupForm(Form):
    name = StringField("Seu nome", validators=[DataRequired("Informe seu nome."), Length(max=120)])
    password = PasswordField("Crie uma senha", validators=[DataRequired("Escolha uma senha.")])
    password_confirm = PasswordField(
        "Confirme a senha",
        validators=[DataRequired("Confirme a senha."), EqualTo("password", PASSWORD_MISMATCH)],
    )
