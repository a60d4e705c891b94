from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from app.forms import Form

PASSWORD_MISMATCH = "As senhas não conferem."


class LoginForm(Form):
    email = EmailField("E-mail", validators=[DataRequired("Informe o e-mail."), Length(max=254)])
    password = PasswordField("Senha", validators=[DataRequired("Informe a senha.")])


class SetupForm(Form):
    name = StringField("Seu nome", validators=[DataRequired("Informe seu nome."), Length(max=120)])
    email = EmailField("E-mail", validators=[DataRequired("Informe o e-mail."), Length(max=254)])
    password = PasswordField("Senha", validators=[DataRequired("Escolha uma senha.")])
    password_confirm = PasswordField(
        "Confirme a senha",
        validators=[DataRequired("Confirme a senha."), EqualTo("password", PASSWORD_MISMATCH)],
    )


class ForgotPasswordForm(Form):
    email = EmailField("E-mail", validators=[DataRequired("Informe o e-mail."), Length(max=254)])


class ResetPasswordForm(Form):
    password = PasswordField("Nova senha", validators=[DataRequired("Escolha uma senha.")])
    password_confirm = PasswordField(
        "Confirme a nova senha",
        validators=[DataRequired("Confirme a nova senha."), EqualTo("password", PASSWORD_MISMATCH)],
    )
