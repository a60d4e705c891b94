"""All models, imported here so Alembic and the app see one metadata."""

from app.models import guards  # noqa: F401  (column-safe values at flush time)
from app.models.access_catalogue import AccessItem, AccessRule
from app.models.activation import ActivationLink
from app.models.audit import AuditEntry
from app.models.automation import AutomationBackfill, AutomationDelivery
from app.models.budget import RateBudgetSlot
from app.models.customers import CustomerKey
from app.models.gestao_click import GcClient, GcProduct, GcSale
from app.models.hotmart import ApiToken, Product, Subscription, SubscriptionMovement
from app.models.integrations import IntegrationCheck
from app.models.kommo import KommoContact, KommoLead
from app.models.outbox import OutboxEmail
from app.models.sales import Access, Sale, SaleStatusChange
from app.models.settings import IntegrationSetting
from app.models.summaries import (
    ActivationDaily,
    ActivationHour,
    ActivationProduct,
    KommoWonDaily,
    KommoWonTotal,
    SalesDaily,
    SalesDailyBuyer,
    SalesDailyOwner,
    SalesDailyProduct,
    SalesDailyUtm,
    SalesMonthlyProduct,
    SalesMonthlyStatus,
    SalesMonthlyUtm,
    SalesTotal,
)
from app.models.sync import JobSetting, SchedulerLease, SyncFailure, SyncRun
from app.models.telegram import TelegramInvite, TelegramMember
from app.models.users import (
    OPERATOR_OPERATOR,
    OPERATOR_OWNER,
    OPERATOR_READ_ONLY,
    OPERATOR_ROLES,
    ROLE_ADMIN,
    ROLE_MEMBER,
    OperatorInvite,
    PasswordResetToken,
    User,
    UserSession,
)
from app.models.webhooks import WebhookEvent, WebhookRejection

__all__ = [
    "Access",
    "AccessItem",
    "AccessRule",
    "ActivationDaily",
    "ActivationHour",
    "ActivationLink",
    "ActivationProduct",
    "ApiToken",
    "AuditEntry",
    "AutomationBackfill",
    "AutomationDelivery",
    "CustomerKey",
    "GcClient",
    "GcProduct",
    "GcSale",
    "Sale",
    "SalesDaily",
    "SalesDailyBuyer",
    "SalesDailyOwner",
    "SalesDailyProduct",
    "SalesDailyUtm",
    "SalesMonthlyProduct",
    "SalesMonthlyStatus",
    "SalesMonthlyUtm",
    "SalesTotal",
    "SaleStatusChange",
    "WebhookEvent",
    "WebhookRejection",
    "ROLE_ADMIN",
    "OPERATOR_OPERATOR",
    "OPERATOR_OWNER",
    "OPERATOR_READ_ONLY",
    "OPERATOR_ROLES",
    "OperatorInvite",
    "ROLE_MEMBER",
    "RateBudgetSlot",
    "IntegrationCheck",
    "IntegrationSetting",
    "JobSetting",
    "KommoContact",
    "KommoLead",
    "KommoWonDaily",
    "KommoWonTotal",
    "OutboxEmail",
    "PasswordResetToken",
    "Product",
    "SchedulerLease",
    "Subscription",
    "SubscriptionMovement",
    "SyncFailure",
    "SyncRun",
    "TelegramInvite",
    "TelegramMember",
    "User",
    "UserSession",
]
