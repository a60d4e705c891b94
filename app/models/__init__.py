"""All models, imported here so Alembic and the app see one metadata."""

from app.models.outbox import OutboxEmail
from app.models.settings import IntegrationSetting
from app.models.users import ROLE_ADMIN, ROLE_MEMBER, PasswordResetToken, User

__all__ = [
    "ROLE_ADMIN",
    "ROLE_MEMBER",
    "IntegrationSetting",
    "OutboxEmail",
    "PasswordResetToken",
    "User",
]
