"""sales.ordered_at (the order date /vendas shows, filters and sorts by), payment methods in
sales_daily, and list sort indexes

``Sale.listed_at`` becomes ``coalesce(ordered_at, approved_at, status_at, created_at)``: the
expression index ``ix_sales_when_id`` and the ``sales_daily`` triggers follow. ``sales_daily``
gains ``payment_method`` in its key (the charts' sales by payment method read the summary, not
the sales): the table is re-created and recomputed from the sales. The SQL below is a frozen
copy of app.services.summaries at this revision (a change there needs a migration).

Indexes for the header sorts of /vendas, /ativacoes and /webhooks (app.sorting): plain
CREATE INDEX, no batch (a batch rebuild of sales on SQLite would drop its summary triggers).

Revision ID: d5f7b9c1e3a4
Revises: c5e7a9b1d3f4
Create Date: 2026-12-01 16:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


revision = "d5f7b9c1e3a4"
down_revision = 'c5e7a9b1d3f4'
branch_labels = None
depends_on = None

SALES_TRIGGERS = {'postgresql': ['CREATE FUNCTION sales_daily_apply() RETURNS trigger LANGUAGE plpgsql AS $$\n'
                'BEGIN\n'
                "  IF TG_OP = 'UPDATE' AND OLD.ordered_at IS NOT DISTINCT FROM NEW.ordered_at "
                'AND OLD.approved_at IS NOT DISTINCT FROM NEW.approved_at AND OLD.status_at IS '
                'NOT DISTINCT FROM NEW.status_at AND OLD.created_at IS NOT DISTINCT FROM '
                'NEW.created_at AND OLD.platform IS NOT DISTINCT FROM NEW.platform AND '
                'OLD.status IS NOT DISTINCT FROM NEW.status AND OLD.currency IS NOT DISTINCT '
                'FROM NEW.currency AND OLD.is_test IS NOT DISTINCT FROM NEW.is_test AND '
                'OLD.amount_cents IS NOT DISTINCT FROM NEW.amount_cents AND OLD.payment_method '
                'IS NOT DISTINCT FROM NEW.payment_method THEN RETURN NULL; END IF;\n'
                "  IF TG_OP IN ('UPDATE', 'DELETE') THEN\n"
                '    INSERT INTO sales_daily (day, platform, status, currency, is_test, '
                "payment_method, n, amount_cents) SELECT to_char(timezone('America/Sao_Paulo', "
                'coalesce(OLD.ordered_at, OLD.approved_at, OLD.status_at, OLD.created_at)), '
                "'YYYY-MM-DD'), OLD.platform, OLD.status, coalesce(OLD.currency, ''), "
                "OLD.is_test, coalesce(OLD.payment_method, ''), -1, "
                '-coalesce(OLD.amount_cents, 0) WHERE true ON CONFLICT (day, platform, status, '
                'currency, is_test, payment_method) DO UPDATE SET n = sales_daily.n + '
                'excluded.n, amount_cents = sales_daily.amount_cents + excluded.amount_cents;\n'
                '    INSERT INTO sales_totals (platform, status, currency, is_test, n, '
                "amount_cents) SELECT OLD.platform, OLD.status, coalesce(OLD.currency, ''), "
                'OLD.is_test, -1, -coalesce(OLD.amount_cents, 0) WHERE true ON CONFLICT '
                '(platform, status, currency, is_test) DO UPDATE SET n = sales_totals.n + '
                'excluded.n, amount_cents = sales_totals.amount_cents + '
                'excluded.amount_cents;\n'
                '  END IF;\n'
                "  IF TG_OP IN ('UPDATE', 'INSERT') THEN\n"
                '    INSERT INTO sales_daily (day, platform, status, currency, is_test, '
                "payment_method, n, amount_cents) SELECT to_char(timezone('America/Sao_Paulo', "
                'coalesce(NEW.ordered_at, NEW.approved_at, NEW.status_at, NEW.created_at)), '
                "'YYYY-MM-DD'), NEW.platform, NEW.status, coalesce(NEW.currency, ''), "
                "NEW.is_test, coalesce(NEW.payment_method, ''), 1, coalesce(NEW.amount_cents, "
                '0) WHERE true ON CONFLICT (day, platform, status, currency, is_test, '
                'payment_method) DO UPDATE SET n = sales_daily.n + excluded.n, amount_cents = '
                'sales_daily.amount_cents + excluded.amount_cents;\n'
                '    INSERT INTO sales_totals (platform, status, currency, is_test, n, '
                "amount_cents) SELECT NEW.platform, NEW.status, coalesce(NEW.currency, ''), "
                'NEW.is_test, 1, coalesce(NEW.amount_cents, 0) WHERE true ON CONFLICT '
                '(platform, status, currency, is_test) DO UPDATE SET n = sales_totals.n + '
                'excluded.n, amount_cents = sales_totals.amount_cents + '
                'excluded.amount_cents;\n'
                '  END IF;\n'
                '  RETURN NULL;\n'
                'END\n'
                '$$',
                'CREATE TRIGGER sales_daily_apply AFTER INSERT OR DELETE OR UPDATE ON sales '
                'FOR EACH ROW EXECUTE FUNCTION sales_daily_apply()'],
 'sqlite': ['CREATE TRIGGER sales_daily_ins AFTER INSERT ON sales BEGIN INSERT INTO '
            'sales_daily (day, platform, status, currency, is_test, payment_method, n, '
            "amount_cents) SELECT strftime('%Y-%m-%d', coalesce(NEW.ordered_at, "
            "NEW.approved_at, NEW.status_at, NEW.created_at), '-3 hours'), NEW.platform, "
            "NEW.status, coalesce(NEW.currency, ''), NEW.is_test, coalesce(NEW.payment_method, "
            "''), 1, coalesce(NEW.amount_cents, 0) WHERE true ON CONFLICT (day, platform, "
            'status, currency, is_test, payment_method) DO UPDATE SET n = sales_daily.n + '
            'excluded.n, amount_cents = sales_daily.amount_cents + excluded.amount_cents; '
            'INSERT INTO sales_totals (platform, status, currency, is_test, n, amount_cents) '
            "SELECT NEW.platform, NEW.status, coalesce(NEW.currency, ''), NEW.is_test, 1, "
            'coalesce(NEW.amount_cents, 0) WHERE true ON CONFLICT (platform, status, currency, '
            'is_test) DO UPDATE SET n = sales_totals.n + excluded.n, amount_cents = '
            'sales_totals.amount_cents + excluded.amount_cents; END',
            'CREATE TRIGGER sales_daily_del AFTER DELETE ON sales BEGIN INSERT INTO '
            'sales_daily (day, platform, status, currency, is_test, payment_method, n, '
            "amount_cents) SELECT strftime('%Y-%m-%d', coalesce(OLD.ordered_at, "
            "OLD.approved_at, OLD.status_at, OLD.created_at), '-3 hours'), OLD.platform, "
            "OLD.status, coalesce(OLD.currency, ''), OLD.is_test, coalesce(OLD.payment_method, "
            "''), -1, -coalesce(OLD.amount_cents, 0) WHERE true ON CONFLICT (day, platform, "
            'status, currency, is_test, payment_method) DO UPDATE SET n = sales_daily.n + '
            'excluded.n, amount_cents = sales_daily.amount_cents + excluded.amount_cents; '
            'INSERT INTO sales_totals (platform, status, currency, is_test, n, amount_cents) '
            "SELECT OLD.platform, OLD.status, coalesce(OLD.currency, ''), OLD.is_test, -1, "
            '-coalesce(OLD.amount_cents, 0) WHERE true ON CONFLICT (platform, status, '
            'currency, is_test) DO UPDATE SET n = sales_totals.n + excluded.n, amount_cents = '
            'sales_totals.amount_cents + excluded.amount_cents; END',
            'CREATE TRIGGER sales_daily_upd AFTER UPDATE ON sales WHEN OLD.ordered_at IS NOT '
            'NEW.ordered_at OR OLD.approved_at IS NOT NEW.approved_at OR OLD.status_at IS NOT '
            'NEW.status_at OR OLD.created_at IS NOT NEW.created_at OR OLD.platform IS NOT '
            'NEW.platform OR OLD.status IS NOT NEW.status OR OLD.currency IS NOT NEW.currency '
            'OR OLD.is_test IS NOT NEW.is_test OR OLD.amount_cents IS NOT NEW.amount_cents OR '
            'OLD.payment_method IS NOT NEW.payment_method BEGIN INSERT INTO sales_daily (day, '
            'platform, status, currency, is_test, payment_method, n, amount_cents) SELECT '
            "strftime('%Y-%m-%d', coalesce(OLD.ordered_at, OLD.approved_at, OLD.status_at, "
            "OLD.created_at), '-3 hours'), OLD.platform, OLD.status, coalesce(OLD.currency, "
            "''), OLD.is_test, coalesce(OLD.payment_method, ''), -1, "
            '-coalesce(OLD.amount_cents, 0) WHERE true ON CONFLICT (day, platform, status, '
            'currency, is_test, payment_method) DO UPDATE SET n = sales_daily.n + excluded.n, '
            'amount_cents = sales_daily.amount_cents + excluded.amount_cents; INSERT INTO '
            'sales_totals (platform, status, currency, is_test, n, amount_cents) SELECT '
            "OLD.platform, OLD.status, coalesce(OLD.currency, ''), OLD.is_test, -1, "
            '-coalesce(OLD.amount_cents, 0) WHERE true ON CONFLICT (platform, status, '
            'currency, is_test) DO UPDATE SET n = sales_totals.n + excluded.n, amount_cents = '
            'sales_totals.amount_cents + excluded.amount_cents; INSERT INTO sales_daily (day, '
            'platform, status, currency, is_test, payment_method, n, amount_cents) SELECT '
            "strftime('%Y-%m-%d', coalesce(NEW.ordered_at, NEW.approved_at, NEW.status_at, "
            "NEW.created_at), '-3 hours'), NEW.platform, NEW.status, coalesce(NEW.currency, "
            "''), NEW.is_test, coalesce(NEW.payment_method, ''), 1, coalesce(NEW.amount_cents, "
            '0) WHERE true ON CONFLICT (day, platform, status, currency, is_test, '
            'payment_method) DO UPDATE SET n = sales_daily.n + excluded.n, amount_cents = '
            'sales_daily.amount_cents + excluded.amount_cents; INSERT INTO sales_totals '
            '(platform, status, currency, is_test, n, amount_cents) SELECT NEW.platform, '
            "NEW.status, coalesce(NEW.currency, ''), NEW.is_test, 1, "
            'coalesce(NEW.amount_cents, 0) WHERE true ON CONFLICT (platform, status, currency, '
            'is_test) DO UPDATE SET n = sales_totals.n + excluded.n, amount_cents = '
            'sales_totals.amount_cents + excluded.amount_cents; END']}

OLD_SALES_TRIGGERS = {'postgresql': ['CREATE FUNCTION sales_daily_apply() RETURNS trigger LANGUAGE plpgsql AS $$\n'
                'BEGIN\n'
                "  IF TG_OP = 'UPDATE' AND OLD.approved_at IS NOT DISTINCT FROM "
                'NEW.approved_at AND OLD.status_at IS NOT DISTINCT FROM NEW.status_at AND '
                'OLD.created_at IS NOT DISTINCT FROM NEW.created_at AND OLD.platform IS NOT '
                'DISTINCT FROM NEW.platform AND OLD.status IS NOT DISTINCT FROM NEW.status AND '
                'OLD.currency IS NOT DISTINCT FROM NEW.currency AND OLD.is_test IS NOT '
                'DISTINCT FROM NEW.is_test AND OLD.amount_cents IS NOT DISTINCT FROM '
                'NEW.amount_cents THEN RETURN NULL; END IF;\n'
                "  IF TG_OP IN ('UPDATE', 'DELETE') THEN\n"
                '    INSERT INTO sales_daily (day, platform, status, currency, is_test, n, '
                "amount_cents) SELECT to_char(timezone('America/Sao_Paulo', "
                "coalesce(OLD.approved_at, OLD.status_at, OLD.created_at)), 'YYYY-MM-DD'), "
                "OLD.platform, OLD.status, coalesce(OLD.currency, ''), OLD.is_test, -1, "
                '-coalesce(OLD.amount_cents, 0) WHERE true ON CONFLICT (day, platform, status, '
                'currency, is_test) DO UPDATE SET n = sales_daily.n + excluded.n, amount_cents '
                '= sales_daily.amount_cents + excluded.amount_cents;\n'
                '    INSERT INTO sales_totals (platform, status, currency, is_test, n, '
                "amount_cents) SELECT OLD.platform, OLD.status, coalesce(OLD.currency, ''), "
                'OLD.is_test, -1, -coalesce(OLD.amount_cents, 0) WHERE true ON CONFLICT '
                '(platform, status, currency, is_test) DO UPDATE SET n = sales_totals.n + '
                'excluded.n, amount_cents = sales_totals.amount_cents + '
                'excluded.amount_cents;\n'
                '  END IF;\n'
                "  IF TG_OP IN ('UPDATE', 'INSERT') THEN\n"
                '    INSERT INTO sales_daily (day, platform, status, currency, is_test, n, '
                "amount_cents) SELECT to_char(timezone('America/Sao_Paulo', "
                "coalesce(NEW.approved_at, NEW.status_at, NEW.created_at)), 'YYYY-MM-DD'), "
                "NEW.platform, NEW.status, coalesce(NEW.currency, ''), NEW.is_test, 1, "
                'coalesce(NEW.amount_cents, 0) WHERE true ON CONFLICT (day, platform, status, '
                'currency, is_test) DO UPDATE SET n = sales_daily.n + excluded.n, amount_cents '
                '= sales_daily.amount_cents + excluded.amount_cents;\n'
                '    INSERT INTO sales_totals (platform, status, currency, is_test, n, '
                "amount_cents) SELECT NEW.platform, NEW.status, coalesce(NEW.currency, ''), "
                'NEW.is_test, 1, coalesce(NEW.amount_cents, 0) WHERE true ON CONFLICT '
                '(platform, status, currency, is_test) DO UPDATE SET n = sales_totals.n + '
                'excluded.n, amount_cents = sales_totals.amount_cents + '
                'excluded.amount_cents;\n'
                '  END IF;\n'
                '  RETURN NULL;\n'
                'END\n'
                '$$',
                'CREATE TRIGGER sales_daily_apply AFTER INSERT OR DELETE OR UPDATE ON sales '
                'FOR EACH ROW EXECUTE FUNCTION sales_daily_apply()'],
 'sqlite': ['CREATE TRIGGER sales_daily_ins AFTER INSERT ON sales BEGIN INSERT INTO '
            'sales_daily (day, platform, status, currency, is_test, n, amount_cents) SELECT '
            "strftime('%Y-%m-%d', coalesce(NEW.approved_at, NEW.status_at, NEW.created_at), "
            "'-3 hours'), NEW.platform, NEW.status, coalesce(NEW.currency, ''), NEW.is_test, "
            '1, coalesce(NEW.amount_cents, 0) WHERE true ON CONFLICT (day, platform, status, '
            'currency, is_test) DO UPDATE SET n = sales_daily.n + excluded.n, amount_cents = '
            'sales_daily.amount_cents + excluded.amount_cents; INSERT INTO sales_totals '
            '(platform, status, currency, is_test, n, amount_cents) SELECT NEW.platform, '
            "NEW.status, coalesce(NEW.currency, ''), NEW.is_test, 1, "
            'coalesce(NEW.amount_cents, 0) WHERE true ON CONFLICT (platform, status, currency, '
            'is_test) DO UPDATE SET n = sales_totals.n + excluded.n, amount_cents = '
            'sales_totals.amount_cents + excluded.amount_cents; END',
            'CREATE TRIGGER sales_daily_del AFTER DELETE ON sales BEGIN INSERT INTO '
            'sales_daily (day, platform, status, currency, is_test, n, amount_cents) SELECT '
            "strftime('%Y-%m-%d', coalesce(OLD.approved_at, OLD.status_at, OLD.created_at), "
            "'-3 hours'), OLD.platform, OLD.status, coalesce(OLD.currency, ''), OLD.is_test, "
            '-1, -coalesce(OLD.amount_cents, 0) WHERE true ON CONFLICT (day, platform, status, '
            'currency, is_test) DO UPDATE SET n = sales_daily.n + excluded.n, amount_cents = '
            'sales_daily.amount_cents + excluded.amount_cents; INSERT INTO sales_totals '
            '(platform, status, currency, is_test, n, amount_cents) SELECT OLD.platform, '
            "OLD.status, coalesce(OLD.currency, ''), OLD.is_test, -1, "
            '-coalesce(OLD.amount_cents, 0) WHERE true ON CONFLICT (platform, status, '
            'currency, is_test) DO UPDATE SET n = sales_totals.n + excluded.n, amount_cents = '
            'sales_totals.amount_cents + excluded.amount_cents; END',
            'CREATE TRIGGER sales_daily_upd AFTER UPDATE ON sales WHEN OLD.approved_at IS NOT '
            'NEW.approved_at OR OLD.status_at IS NOT NEW.status_at OR OLD.created_at IS NOT '
            'NEW.created_at OR OLD.platform IS NOT NEW.platform OR OLD.status IS NOT '
            'NEW.status OR OLD.currency IS NOT NEW.currency OR OLD.is_test IS NOT NEW.is_test '
            'OR OLD.amount_cents IS NOT NEW.amount_cents BEGIN INSERT INTO sales_daily (day, '
            "platform, status, currency, is_test, n, amount_cents) SELECT strftime('%Y-%m-%d', "
            "coalesce(OLD.approved_at, OLD.status_at, OLD.created_at), '-3 hours'), "
            "OLD.platform, OLD.status, coalesce(OLD.currency, ''), OLD.is_test, -1, "
            '-coalesce(OLD.amount_cents, 0) WHERE true ON CONFLICT (day, platform, status, '
            'currency, is_test) DO UPDATE SET n = sales_daily.n + excluded.n, amount_cents = '
            'sales_daily.amount_cents + excluded.amount_cents; INSERT INTO sales_totals '
            '(platform, status, currency, is_test, n, amount_cents) SELECT OLD.platform, '
            "OLD.status, coalesce(OLD.currency, ''), OLD.is_test, -1, "
            '-coalesce(OLD.amount_cents, 0) WHERE true ON CONFLICT (platform, status, '
            'currency, is_test) DO UPDATE SET n = sales_totals.n + excluded.n, amount_cents = '
            'sales_totals.amount_cents + excluded.amount_cents; INSERT INTO sales_daily (day, '
            "platform, status, currency, is_test, n, amount_cents) SELECT strftime('%Y-%m-%d', "
            "coalesce(NEW.approved_at, NEW.status_at, NEW.created_at), '-3 hours'), "
            "NEW.platform, NEW.status, coalesce(NEW.currency, ''), NEW.is_test, 1, "
            'coalesce(NEW.amount_cents, 0) WHERE true ON CONFLICT (day, platform, status, '
            'currency, is_test) DO UPDATE SET n = sales_daily.n + excluded.n, amount_cents = '
            'sales_daily.amount_cents + excluded.amount_cents; INSERT INTO sales_totals '
            '(platform, status, currency, is_test, n, amount_cents) SELECT NEW.platform, '
            "NEW.status, coalesce(NEW.currency, ''), NEW.is_test, 1, "
            'coalesce(NEW.amount_cents, 0) WHERE true ON CONFLICT (platform, status, currency, '
            'is_test) DO UPDATE SET n = sales_totals.n + excluded.n, amount_cents = '
            'sales_totals.amount_cents + excluded.amount_cents; END']}

SALES_DAILY = {'postgresql': "SELECT to_char(timezone('America/Sao_Paulo', coalesce(s.ordered_at, "
               "s.approved_at, s.status_at, s.created_at)), 'YYYY-MM-DD') AS day, s.platform, "
               "s.status, coalesce(s.currency, '') AS currency, s.is_test, "
               "coalesce(s.payment_method, '') AS payment_method, count(*) AS n, "
               'sum(coalesce(s.amount_cents, 0)) AS amount_cents FROM sales s GROUP BY 1, 2, '
               '3, 4, 5, 6',
 'sqlite': "SELECT strftime('%Y-%m-%d', coalesce(s.ordered_at, s.approved_at, s.status_at, "
           "s.created_at), '-3 hours') AS day, s.platform, s.status, coalesce(s.currency, '') "
           "AS currency, s.is_test, coalesce(s.payment_method, '') AS payment_method, count(*) "
           'AS n, sum(coalesce(s.amount_cents, 0)) AS amount_cents FROM sales s GROUP BY 1, 2, '
           '3, 4, 5, 6'}

OLD_SALES_DAILY = {'postgresql': "SELECT to_char(timezone('America/Sao_Paulo', coalesce(s.approved_at, "
               "s.status_at, s.created_at)), 'YYYY-MM-DD') AS day, s.platform, s.status, "
               "coalesce(s.currency, '') AS currency, s.is_test, count(*) AS n, "
               'sum(coalesce(s.amount_cents, 0)) AS amount_cents FROM sales s GROUP BY 1, 2, '
               '3, 4, 5',
 'sqlite': "SELECT strftime('%Y-%m-%d', coalesce(s.approved_at, s.status_at, s.created_at), "
           "'-3 hours') AS day, s.platform, s.status, coalesce(s.currency, '') AS currency, "
           's.is_test, count(*) AS n, sum(coalesce(s.amount_cents, 0)) AS amount_cents FROM '
           'sales s GROUP BY 1, 2, 3, 4, 5'}

DROP = {
    "postgresql": [
        "DROP TRIGGER IF EXISTS sales_daily_apply ON sales",
        "DROP FUNCTION IF EXISTS sales_daily_apply()",
    ],
    "sqlite": [
        "DROP TRIGGER IF EXISTS sales_daily_ins",
        "DROP TRIGGER IF EXISTS sales_daily_del",
        "DROP TRIGGER IF EXISTS sales_daily_upd",
    ],
}
SORT_INDEXES = (
    ("ix_sales_platform_id", "sales", ["platform", "id"]),
    ("ix_sales_status_id", "sales", ["status", "id"]),
    ("ix_activation_links_email_id", "activation_links", ["buyer_email", "id"]),
    ("ix_webhook_events_platform_id", "webhook_events", ["platform", "id"]),
    ("ix_webhook_events_status_id", "webhook_events", ["status", "id"]),
)
KEY = ["day", "platform", "status", "currency", "is_test"]


def _run(statements):
    for statement in statements:
        op.execute(sa.text(statement))


def _sales_daily(with_method: bool):
    columns = [
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("currency", sa.String(length=8), nullable=False),
        sa.Column("is_test", sa.Boolean(), nullable=False),
    ]
    if with_method:
        columns.append(sa.Column("payment_method", sa.String(length=32), nullable=False))
    key = KEY + (["payment_method"] if with_method else [])
    op.create_table(
        "sales_daily",
        *columns,
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(*key, name=op.f("pk_sales_daily")),
    )


def _when_index(expression: str):
    op.drop_index("ix_sales_when_id", table_name="sales")
    op.create_index("ix_sales_when_id", "sales", [sa.text(expression), "id"], unique=False)


def upgrade():
    dialect = op.get_bind().dialect.name
    _run(DROP[dialect])
    op.add_column("sales", sa.Column("ordered_at", sa.DateTime(timezone=True), nullable=True))
    _when_index("coalesce(ordered_at, approved_at, status_at, created_at)")
    op.drop_table("sales_daily")
    _sales_daily(with_method=True)
    op.execute(
        sa.text(
            "INSERT INTO sales_daily (day, platform, status, currency, is_test, payment_method, "
            f"n, amount_cents) {SALES_DAILY[dialect]}"
        )
    )
    _run(SALES_TRIGGERS[dialect])
    op.create_index(
        "ix_sales_amount_id", "sales", [sa.text("coalesce(amount_cents, 0)"), "id"], unique=False
    )
    for name, table, columns in SORT_INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade():
    dialect = op.get_bind().dialect.name
    for name, table, _columns in reversed(SORT_INDEXES):
        op.drop_index(name, table_name=table)
    op.drop_index("ix_sales_amount_id", table_name="sales")
    _run(DROP[dialect])
    _when_index("coalesce(approved_at, status_at, created_at)")
    op.drop_column("sales", "ordered_at")
    op.drop_table("sales_daily")
    _sales_daily(with_method=False)
    op.execute(
        sa.text(
            "INSERT INTO sales_daily (day, platform, status, currency, is_test, n, amount_cents) "
            f"{OLD_SALES_DAILY[dialect]}"
        )
    )
    _run(OLD_SALES_TRIGGERS[dialect])
