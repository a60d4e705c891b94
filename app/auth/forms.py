from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

PASSWORD_MISMATCH = "As senhas não conferem."


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired("Informe o e-mail."), Length(max=254)])
    password = PasswordField("Senha", validators=[DataRequired("Informe a senha.")])


class SetupForm(FlaskForm):
    name = StringField("Seu nome", validators=[DataRequired("Informe seu nome."), Length(max=120)])
    email = EmailField("E-mail", validators=[DataRequired("Informe o e-mail."), Length(max=254)])
    password = PasswordField("Senha", validators=[DataRequired("Escolha uma senha.")])
    password_confirm = PasswordField(
        "Confirme a senha", validators=[DataRequired(), EqualTo("password", PASSWORD_MISMATCH)]
    )


class ForgotPasswordForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired("Informe o e-mail."), Length(max=254)])


class ResetPasswordForm(FlaskForm):
    password = PasswordField("Nova senha", validators=[DataRequired("Escolha uma senha.")])
    password_confirm = PasswordField(
        "Confirme a nova senha", validators=[DataRequired(), EqualTo("password", PASSWORD_MISMATCH)]
    )
