"""pages at size: indexes and summary tables

Indexes for the sorts and filters of the operator lists (keyset pages), and the summary
tables of app.models.summaries kept by triggers on sales, activation_links and kommo_leads
(the SQL below is a frozen copy of app.services.summaries at this revision; a change there
needs a migration that re-creates the triggers), backfilled from the rows already stored.
A later batch migration that rebuilds one of those tables on SQLite drops its triggers:
re-create them there.

Revision ID: a1c3e5f7b9d2
Revises: 3f6a9c1d2b7e
Create Date: 2026-12-01 13:58:15.447527

"""
from alembic import op
import sqlalchemy as sa



# Frozen copies of app.services.summaries as of this revision (a migration must not change
# when the app's code does).
TRIGGERS = {'postgresql': ['CREATE FUNCTION sales_daily_apply() RETURNS trigger LANGUAGE plpgsql AS $$\n'
                'BEGIN\n'
                "  IF TG_OP = 'UPDATE' AND OLD.approved_at IS NOT DISTINCT FROM NEW.approved_at "
                'AND OLD.status_at IS NOT DISTINCT FROM NEW.status_at AND OLD.created_at IS NOT '
                'DISTINCT FROM NEW.created_at AND OLD.platform IS NOT DISTINCT FROM NEW.platform '
                'AND OLD.status IS NOT DISTINCT FROM NEW.status AND OLD.currency IS NOT DISTINCT '
                'FROM NEW.currency AND OLD.is_test IS NOT DISTINCT FROM NEW.is_test AND '
                'OLD.amount_cents IS NOT DISTINCT FROM NEW.amount_cents THEN RETURN NULL; END IF;\n'
                "  IF TG_OP IN ('UPDATE', 'DELETE') THEN\n"
                '    INSERT INTO sales_daily (day, platform, status, currency, is_test, n, '
                "amount_cents) SELECT to_char(timezone('America/Sao_Paulo', "
                "coalesce(OLD.approved_at, OLD.status_at, OLD.created_at)), 'YYYY-MM-DD'), "
                "OLD.platform, OLD.status, coalesce(OLD.currency, ''), OLD.is_test, -1, "
                '-coalesce(OLD.amount_cents, 0) WHERE true ON CONFLICT (day, platform, status, '
                'currency, is_test) DO UPDATE SET n = sales_daily.n + excluded.n, amount_cents = '
                'sales_daily.amount_cents + excluded.amount_cents;\n'
                '    INSERT INTO sales_totals (platform, status, currency, is_test, n, '
                "amount_cents) SELECT OLD.platform, OLD.status, coalesce(OLD.currency, ''), "
                'OLD.is_test, -1, -coalesce(OLD.amount_cents, 0) WHERE true ON CONFLICT (platform, '
                'status, currency, is_test) DO UPDATE SET n = sales_totals.n + excluded.n, '
                'amount_cents = sales_totals.amount_cents + excluded.amount_cents;\n'
                '  END IF;\n'
                "  IF TG_OP IN ('UPDATE', 'INSERT') THEN\n"
                '    INSERT INTO sales_daily (day, platform, status, currency, is_test, n, '
                "amount_cents) SELECT to_char(timezone('America/Sao_Paulo', "
                "coalesce(NEW.approved_at, NEW.status_at, NEW.created_at)), 'YYYY-MM-DD'), "
                "NEW.platform, NEW.status, coalesce(NEW.currency, ''), NEW.is_test, 1, "
                'coalesce(NEW.amount_cents, 0) WHERE true ON CONFLICT (day, platform, status, '
                'currency, is_test) DO UPDATE SET n = sales_daily.n + excluded.n, amount_cents = '
                'sales_daily.amount_cents + excluded.amount_cents;\n'
                '    INSERT INTO sales_totals (platform, status, currency, is_test, n, '
                "amount_cents) SELECT NEW.platform, NEW.status, coalesce(NEW.currency, ''), "
                'NEW.is_test, 1, coalesce(NEW.amount_cents, 0) WHERE true ON CONFLICT (platform, '
                'status, currency, is_test) DO UPDATE SET n = sales_totals.n + excluded.n, '
                'amount_cents = sales_totals.amount_cents + excluded.amount_cents;\n'
                '  END IF;\n'
                '  RETURN NULL;\n'
                'END\n'
                '$$',
                'CREATE TRIGGER sales_daily_apply AFTER INSERT OR DELETE OR UPDATE ON sales FOR '
                'EACH ROW EXECUTE FUNCTION sales_daily_apply()',
                'CREATE FUNCTION activation_summaries_apply() RETURNS trigger LANGUAGE plpgsql AS '
                '$$\n'
                'BEGIN\n'
                "  IF TG_OP = 'UPDATE' AND OLD.used_at IS NOT DISTINCT FROM NEW.used_at AND "
                'OLD.created_at IS NOT DISTINCT FROM NEW.created_at AND OLD.platform IS NOT '
                'DISTINCT FROM NEW.platform AND OLD.product_id IS NOT DISTINCT FROM NEW.product_id '
                'AND OLD.product_name IS NOT DISTINCT FROM NEW.product_name AND OLD.is_test IS NOT '
                'DISTINCT FROM NEW.is_test AND OLD.revoked_reason IS NOT DISTINCT FROM '
                'NEW.revoked_reason AND OLD.sent_at IS NOT DISTINCT FROM NEW.sent_at AND '
                'OLD.opened_at IS NOT DISTINCT FROM NEW.opened_at AND OLD.status IS NOT DISTINCT '
                'FROM NEW.status THEN RETURN NULL; END IF;\n'
                "  IF TG_OP IN ('UPDATE', 'DELETE') THEN\n"
                '    INSERT INTO activation_daily (day, platform, product_id, product_name, '
                'created, sent, opened, used, expired, revoked, pending) SELECT '
                "to_char(timezone('America/Sao_Paulo', OLD.created_at), 'YYYY-MM-DD'), "
                "OLD.platform, coalesce(OLD.product_id, ''), coalesce(OLD.product_name, ''), -(1), "
                '-(CASE WHEN OLD.sent_at IS NOT NULL THEN 1 ELSE 0 END), -(CASE WHEN OLD.opened_at '
                "IS NOT NULL THEN 1 ELSE 0 END), -(CASE WHEN OLD.status = 'used' THEN 1 ELSE 0 "
                "END), -(CASE WHEN OLD.status = 'expired' THEN 1 ELSE 0 END), -(CASE WHEN "
                "OLD.status = 'revoked' THEN 1 ELSE 0 END), -(CASE WHEN OLD.status = 'pending' "
                "THEN 1 ELSE 0 END) WHERE OLD.is_test = false AND coalesce(OLD.revoked_reason, '') "
                "NOT IN ('replaced', 'email_changed') ON CONFLICT (day, platform, product_id, "
                'product_name) DO UPDATE SET created = activation_daily.created + '
                'excluded.created, sent = activation_daily.sent + excluded.sent, opened = '
                'activation_daily.opened + excluded.opened, used = activation_daily.used + '
                'excluded.used, expired = activation_daily.expired + excluded.expired, revoked = '
                'activation_daily.revoked + excluded.revoked, pending = activation_daily.pending + '
                'excluded.pending;\n'
                '    INSERT INTO activation_hours (day, hours, n) SELECT '
                "to_char(timezone('America/Sao_Paulo', OLD.created_at), 'YYYY-MM-DD'), "
                '(floor(EXTRACT(epoch FROM OLD.used_at - OLD.created_at) / '
                '3600::numeric)::integer), -1 WHERE OLD.is_test = false AND '
                "coalesce(OLD.revoked_reason, '') NOT IN ('replaced', 'email_changed') AND "
                "OLD.status = 'used' AND OLD.used_at IS NOT NULL ON CONFLICT (day, hours) DO "
                'UPDATE SET n = activation_hours.n + excluded.n;\n'
                '    INSERT INTO activation_products (product_id, product_name, n) SELECT '
                "OLD.product_id, coalesce(OLD.product_name, ''), -1 WHERE OLD.product_id IS NOT "
                'NULL ON CONFLICT (product_id, product_name) DO UPDATE SET n = '
                'activation_products.n + excluded.n;\n'
                '  END IF;\n'
                "  IF TG_OP IN ('UPDATE', 'INSERT') THEN\n"
                '    INSERT INTO activation_daily (day, platform, product_id, product_name, '
                'created, sent, opened, used, expired, revoked, pending) SELECT '
                "to_char(timezone('America/Sao_Paulo', NEW.created_at), 'YYYY-MM-DD'), "
                "NEW.platform, coalesce(NEW.product_id, ''), coalesce(NEW.product_name, ''), 1, "
                'CASE WHEN NEW.sent_at IS NOT NULL THEN 1 ELSE 0 END, CASE WHEN NEW.opened_at IS '
                "NOT NULL THEN 1 ELSE 0 END, CASE WHEN NEW.status = 'used' THEN 1 ELSE 0 END, CASE "
                "WHEN NEW.status = 'expired' THEN 1 ELSE 0 END, CASE WHEN NEW.status = 'revoked' "
                "THEN 1 ELSE 0 END, CASE WHEN NEW.status = 'pending' THEN 1 ELSE 0 END WHERE "
                "NEW.is_test = false AND coalesce(NEW.revoked_reason, '') NOT IN ('replaced', "
                "'email_changed') ON CONFLICT (day, platform, product_id, product_name) DO UPDATE "
                'SET created = activation_daily.created + excluded.created, sent = '
                'activation_daily.sent + excluded.sent, opened = activation_daily.opened + '
                'excluded.opened, used = activation_daily.used + excluded.used, expired = '
                'activation_daily.expired + excluded.expired, revoked = activation_daily.revoked + '
                'excluded.revoked, pending = activation_daily.pending + excluded.pending;\n'
                '    INSERT INTO activation_hours (day, hours, n) SELECT '
                "to_char(timezone('America/Sao_Paulo', NEW.created_at), 'YYYY-MM-DD'), "
                '(floor(EXTRACT(epoch FROM NEW.used_at - NEW.created_at) / '
                '3600::numeric)::integer), 1 WHERE NEW.is_test = false AND '
                "coalesce(NEW.revoked_reason, '') NOT IN ('replaced', 'email_changed') AND "
                "NEW.status = 'used' AND NEW.used_at IS NOT NULL ON CONFLICT (day, hours) DO "
                'UPDATE SET n = activation_hours.n + excluded.n;\n'
                '    INSERT INTO activation_products (product_id, product_name, n) SELECT '
                "NEW.product_id, coalesce(NEW.product_name, ''), 1 WHERE NEW.product_id IS NOT "
                'NULL ON CONFLICT (product_id, product_name) DO UPDATE SET n = '
                'activation_products.n + excluded.n;\n'
                '  END IF;\n'
                '  RETURN NULL;\n'
                'END\n'
                '$$',
                'CREATE TRIGGER activation_summaries_apply AFTER INSERT OR DELETE OR UPDATE ON '
                'activation_links FOR EACH ROW EXECUTE FUNCTION activation_summaries_apply()',
                'CREATE FUNCTION kommo_won_totals_apply() RETURNS trigger LANGUAGE plpgsql AS $$\n'
                'BEGIN\n'
                "  IF TG_OP = 'UPDATE' AND OLD.is_won IS NOT DISTINCT FROM NEW.is_won AND "
                'OLD.price IS NOT DISTINCT FROM NEW.price AND OLD.currency IS NOT DISTINCT FROM '
                'NEW.currency THEN RETURN NULL; END IF;\n'
                "  IF TG_OP IN ('UPDATE', 'DELETE') THEN\n"
                '    INSERT INTO kommo_won_totals (currency, n, price) SELECT '
                "coalesce(OLD.currency, ''), -1, -OLD.price WHERE OLD.is_won = true AND OLD.price "
                'IS NOT NULL ON CONFLICT (currency) DO UPDATE SET n = kommo_won_totals.n + '
                'excluded.n, price = kommo_won_totals.price + excluded.price;\n'
                '  END IF;\n'
                "  IF TG_OP IN ('UPDATE', 'INSERT') THEN\n"
                '    INSERT INTO kommo_won_totals (currency, n, price) SELECT '
                "coalesce(NEW.currency, ''), 1, NEW.price WHERE NEW.is_won = true AND NEW.price IS "
                'NOT NULL ON CONFLICT (currency) DO UPDATE SET n = kommo_won_totals.n + '
                'excluded.n, price = kommo_won_totals.price + excluded.price;\n'
                '  END IF;\n'
                '  RETURN NULL;\n'
                'END\n'
                '$$',
                'CREATE TRIGGER kommo_won_totals_apply AFTER INSERT OR DELETE OR UPDATE ON '
                'kommo_leads FOR EACH ROW EXECUTE FUNCTION kommo_won_totals_apply()'],
 'sqlite': ['CREATE TRIGGER sales_daily_ins AFTER INSERT ON sales BEGIN INSERT INTO sales_daily '
            '(day, platform, status, currency, is_test, n, amount_cents) SELECT '
            "strftime('%Y-%m-%d', coalesce(NEW.approved_at, NEW.status_at, NEW.created_at), '-3 "
            "hours'), NEW.platform, NEW.status, coalesce(NEW.currency, ''), NEW.is_test, 1, "
            'coalesce(NEW.amount_cents, 0) WHERE true ON CONFLICT (day, platform, status, '
            'currency, is_test) DO UPDATE SET n = sales_daily.n + excluded.n, amount_cents = '
            'sales_daily.amount_cents + excluded.amount_cents; INSERT INTO sales_totals (platform, '
            'status, currency, is_test, n, amount_cents) SELECT NEW.platform, NEW.status, '
            "coalesce(NEW.currency, ''), NEW.is_test, 1, coalesce(NEW.amount_cents, 0) WHERE true "
            'ON CONFLICT (platform, status, currency, is_test) DO UPDATE SET n = sales_totals.n + '
            'excluded.n, amount_cents = sales_totals.amount_cents + excluded.amount_cents; END',
            'CREATE TRIGGER sales_daily_del AFTER DELETE ON sales BEGIN INSERT INTO sales_daily '
            '(day, platform, status, currency, is_test, n, amount_cents) SELECT '
            "strftime('%Y-%m-%d', coalesce(OLD.approved_at, OLD.status_at, OLD.created_at), '-3 "
            "hours'), OLD.platform, OLD.status, coalesce(OLD.currency, ''), OLD.is_test, -1, "
            '-coalesce(OLD.amount_cents, 0) WHERE true ON CONFLICT (day, platform, status, '
            'currency, is_test) DO UPDATE SET n = sales_daily.n + excluded.n, amount_cents = '
            'sales_daily.amount_cents + excluded.amount_cents; INSERT INTO sales_totals (platform, '
            'status, currency, is_test, n, amount_cents) SELECT OLD.platform, OLD.status, '
            "coalesce(OLD.currency, ''), OLD.is_test, -1, -coalesce(OLD.amount_cents, 0) WHERE "
            'true ON CONFLICT (platform, status, currency, is_test) DO UPDATE SET n = '
            'sales_totals.n + excluded.n, amount_cents = sales_totals.amount_cents + '
            'excluded.amount_cents; END',
            'CREATE TRIGGER sales_daily_upd AFTER UPDATE ON sales WHEN OLD.approved_at IS NOT '
            'NEW.approved_at OR OLD.status_at IS NOT NEW.status_at OR OLD.created_at IS NOT '
            'NEW.created_at OR OLD.platform IS NOT NEW.platform OR OLD.status IS NOT NEW.status OR '
            'OLD.currency IS NOT NEW.currency OR OLD.is_test IS NOT NEW.is_test OR '
            'OLD.amount_cents IS NOT NEW.amount_cents BEGIN INSERT INTO sales_daily (day, '
            "platform, status, currency, is_test, n, amount_cents) SELECT strftime('%Y-%m-%d', "
            "coalesce(OLD.approved_at, OLD.status_at, OLD.created_at), '-3 hours'), OLD.platform, "
            "OLD.status, coalesce(OLD.currency, ''), OLD.is_test, -1, -coalesce(OLD.amount_cents, "
            '0) WHERE true ON CONFLICT (day, platform, status, currency, is_test) DO UPDATE SET n '
            '= sales_daily.n + excluded.n, amount_cents = sales_daily.amount_cents + '
            'excluded.amount_cents; INSERT INTO sales_totals (platform, status, currency, is_test, '
            "n, amount_cents) SELECT OLD.platform, OLD.status, coalesce(OLD.currency, ''), "
            'OLD.is_test, -1, -coalesce(OLD.amount_cents, 0) WHERE true ON CONFLICT (platform, '
            'status, currency, is_test) DO UPDATE SET n = sales_totals.n + excluded.n, '
            'amount_cents = sales_totals.amount_cents + excluded.amount_cents; INSERT INTO '
            'sales_daily (day, platform, status, currency, is_test, n, amount_cents) SELECT '
            "strftime('%Y-%m-%d', coalesce(NEW.approved_at, NEW.status_at, NEW.created_at), '-3 "
            "hours'), NEW.platform, NEW.status, coalesce(NEW.currency, ''), NEW.is_test, 1, "
            'coalesce(NEW.amount_cents, 0) WHERE true ON CONFLICT (day, platform, status, '
            'currency, is_test) DO UPDATE SET n = sales_daily.n + excluded.n, amount_cents = '
            'sales_daily.amount_cents + excluded.amount_cents; INSERT INTO sales_totals (platform, '
            'status, currency, is_test, n, amount_cents) SELECT NEW.platform, NEW.status, '
            "coalesce(NEW.currency, ''), NEW.is_test, 1, coalesce(NEW.amount_cents, 0) WHERE true "
            'ON CONFLICT (platform, status, currency, is_test) DO UPDATE SET n = sales_totals.n + '
            'excluded.n, amount_cents = sales_totals.amount_cents + excluded.amount_cents; END',
            'CREATE TRIGGER activation_summaries_ins AFTER INSERT ON activation_links BEGIN INSERT '
            'INTO activation_daily (day, platform, product_id, product_name, created, sent, '
            "opened, used, expired, revoked, pending) SELECT strftime('%Y-%m-%d', NEW.created_at, "
            "'-3 hours'), NEW.platform, coalesce(NEW.product_id, ''), coalesce(NEW.product_name, "
            "''), 1, CASE WHEN NEW.sent_at IS NOT NULL THEN 1 ELSE 0 END, CASE WHEN NEW.opened_at "
            "IS NOT NULL THEN 1 ELSE 0 END, CASE WHEN NEW.status = 'used' THEN 1 ELSE 0 END, CASE "
            "WHEN NEW.status = 'expired' THEN 1 ELSE 0 END, CASE WHEN NEW.status = 'revoked' THEN "
            "1 ELSE 0 END, CASE WHEN NEW.status = 'pending' THEN 1 ELSE 0 END WHERE NEW.is_test = "
            "0 AND coalesce(NEW.revoked_reason, '') NOT IN ('replaced', 'email_changed') ON "
            'CONFLICT (day, platform, product_id, product_name) DO UPDATE SET created = '
            'activation_daily.created + excluded.created, sent = activation_daily.sent + '
            'excluded.sent, opened = activation_daily.opened + excluded.opened, used = '
            'activation_daily.used + excluded.used, expired = activation_daily.expired + '
            'excluded.expired, revoked = activation_daily.revoked + excluded.revoked, pending = '
            'activation_daily.pending + excluded.pending; INSERT INTO activation_hours (day, '
            "hours, n) SELECT strftime('%Y-%m-%d', NEW.created_at, '-3 hours'), "
            'CAST((julianday(NEW.used_at) - julianday(NEW.created_at)) * 24 AS INTEGER), 1 WHERE '
            "NEW.is_test = 0 AND coalesce(NEW.revoked_reason, '') NOT IN ('replaced', "
            "'email_changed') AND NEW.status = 'used' AND NEW.used_at IS NOT NULL ON CONFLICT "
            '(day, hours) DO UPDATE SET n = activation_hours.n + excluded.n; INSERT INTO '
            'activation_products (product_id, product_name, n) SELECT NEW.product_id, '
            "coalesce(NEW.product_name, ''), 1 WHERE NEW.product_id IS NOT NULL ON CONFLICT "
            '(product_id, product_name) DO UPDATE SET n = activation_products.n + excluded.n; END',
            'CREATE TRIGGER activation_summaries_del AFTER DELETE ON activation_links BEGIN INSERT '
            'INTO activation_daily (day, platform, product_id, product_name, created, sent, '
            "opened, used, expired, revoked, pending) SELECT strftime('%Y-%m-%d', OLD.created_at, "
            "'-3 hours'), OLD.platform, coalesce(OLD.product_id, ''), coalesce(OLD.product_name, "
            "''), -(1), -(CASE WHEN OLD.sent_at IS NOT NULL THEN 1 ELSE 0 END), -(CASE WHEN "
            "OLD.opened_at IS NOT NULL THEN 1 ELSE 0 END), -(CASE WHEN OLD.status = 'used' THEN 1 "
            "ELSE 0 END), -(CASE WHEN OLD.status = 'expired' THEN 1 ELSE 0 END), -(CASE WHEN "
            "OLD.status = 'revoked' THEN 1 ELSE 0 END), -(CASE WHEN OLD.status = 'pending' THEN 1 "
            "ELSE 0 END) WHERE OLD.is_test = 0 AND coalesce(OLD.revoked_reason, '') NOT IN "
            "('replaced', 'email_changed') ON CONFLICT (day, platform, product_id, product_name) "
            'DO UPDATE SET created = activation_daily.created + excluded.created, sent = '
            'activation_daily.sent + excluded.sent, opened = activation_daily.opened + '
            'excluded.opened, used = activation_daily.used + excluded.used, expired = '
            'activation_daily.expired + excluded.expired, revoked = activation_daily.revoked + '
            'excluded.revoked, pending = activation_daily.pending + excluded.pending; INSERT INTO '
            "activation_hours (day, hours, n) SELECT strftime('%Y-%m-%d', OLD.created_at, '-3 "
            "hours'), CAST((julianday(OLD.used_at) - julianday(OLD.created_at)) * 24 AS INTEGER), "
            "-1 WHERE OLD.is_test = 0 AND coalesce(OLD.revoked_reason, '') NOT IN ('replaced', "
            "'email_changed') AND OLD.status = 'used' AND OLD.used_at IS NOT NULL ON CONFLICT "
            '(day, hours) DO UPDATE SET n = activation_hours.n + excluded.n; INSERT INTO '
            'activation_products (product_id, product_name, n) SELECT OLD.product_id, '
            "coalesce(OLD.product_name, ''), -1 WHERE OLD.product_id IS NOT NULL ON CONFLICT "
            '(product_id, product_name) DO UPDATE SET n = activation_products.n + excluded.n; END',
            'CREATE TRIGGER activation_summaries_upd AFTER UPDATE ON activation_links WHEN '
            'OLD.used_at IS NOT NEW.used_at OR OLD.created_at IS NOT NEW.created_at OR '
            'OLD.platform IS NOT NEW.platform OR OLD.product_id IS NOT NEW.product_id OR '
            'OLD.product_name IS NOT NEW.product_name OR OLD.is_test IS NOT NEW.is_test OR '
            'OLD.revoked_reason IS NOT NEW.revoked_reason OR OLD.sent_at IS NOT NEW.sent_at OR '
            'OLD.opened_at IS NOT NEW.opened_at OR OLD.status IS NOT NEW.status BEGIN INSERT INTO '
            'activation_daily (day, platform, product_id, product_name, created, sent, opened, '
            "used, expired, revoked, pending) SELECT strftime('%Y-%m-%d', OLD.created_at, '-3 "
            "hours'), OLD.platform, coalesce(OLD.product_id, ''), coalesce(OLD.product_name, ''), "
            '-(1), -(CASE WHEN OLD.sent_at IS NOT NULL THEN 1 ELSE 0 END), -(CASE WHEN '
            "OLD.opened_at IS NOT NULL THEN 1 ELSE 0 END), -(CASE WHEN OLD.status = 'used' THEN 1 "
            "ELSE 0 END), -(CASE WHEN OLD.status = 'expired' THEN 1 ELSE 0 END), -(CASE WHEN "
            "OLD.status = 'revoked' THEN 1 ELSE 0 END), -(CASE WHEN OLD.status = 'pending' THEN 1 "
            "ELSE 0 END) WHERE OLD.is_test = 0 AND coalesce(OLD.revoked_reason, '') NOT IN "
            "('replaced', 'email_changed') ON CONFLICT (day, platform, product_id, product_name) "
            'DO UPDATE SET created = activation_daily.created + excluded.created, sent = '
            'activation_daily.sent + excluded.sent, opened = activation_daily.opened + '
            'excluded.opened, used = activation_daily.used + excluded.used, expired = '
            'activation_daily.expired + excluded.expired, revoked = activation_daily.revoked + '
            'excluded.revoked, pending = activation_daily.pending + excluded.pending; INSERT INTO '
            "activation_hours (day, hours, n) SELECT strftime('%Y-%m-%d', OLD.created_at, '-3 "
            "hours'), CAST((julianday(OLD.used_at) - julianday(OLD.created_at)) * 24 AS INTEGER), "
            "-1 WHERE OLD.is_test = 0 AND coalesce(OLD.revoked_reason, '') NOT IN ('replaced', "
            "'email_changed') AND OLD.status = 'used' AND OLD.used_at IS NOT NULL ON CONFLICT "
            '(day, hours) DO UPDATE SET n = activation_hours.n + excluded.n; INSERT INTO '
            'activation_products (product_id, product_name, n) SELECT OLD.product_id, '
            "coalesce(OLD.product_name, ''), -1 WHERE OLD.product_id IS NOT NULL ON CONFLICT "
            '(product_id, product_name) DO UPDATE SET n = activation_products.n + excluded.n; '
            'INSERT INTO activation_daily (day, platform, product_id, product_name, created, sent, '
            "opened, used, expired, revoked, pending) SELECT strftime('%Y-%m-%d', NEW.created_at, "
            "'-3 hours'), NEW.platform, coalesce(NEW.product_id, ''), coalesce(NEW.product_name, "
            "''), 1, CASE WHEN NEW.sent_at IS NOT NULL THEN 1 ELSE 0 END, CASE WHEN NEW.opened_at "
            "IS NOT NULL THEN 1 ELSE 0 END, CASE WHEN NEW.status = 'used' THEN 1 ELSE 0 END, CASE "
            "WHEN NEW.status = 'expired' THEN 1 ELSE 0 END, CASE WHEN NEW.status = 'revoked' THEN "
            "1 ELSE 0 END, CASE WHEN NEW.status = 'pending' THEN 1 ELSE 0 END WHERE NEW.is_test = "
            "0 AND coalesce(NEW.revoked_reason, '') NOT IN ('replaced', 'email_changed') ON "
            'CONFLICT (day, platform, product_id, product_name) DO UPDATE SET created = '
            'activation_daily.created + excluded.created, sent = activation_daily.sent + '
            'excluded.sent, opened = activation_daily.opened + excluded.opened, used = '
            'activation_daily.used + excluded.used, expired = activation_daily.expired + '
            'excluded.expired, revoked = activation_daily.revoked + excluded.revoked, pending = '
            'activation_daily.pending + excluded.pending; INSERT INTO activation_hours (day, '
            "hours, n) SELECT strftime('%Y-%m-%d', NEW.created_at, '-3 hours'), "
            'CAST((julianday(NEW.used_at) - julianday(NEW.created_at)) * 24 AS INTEGER), 1 WHERE '
            "NEW.is_test = 0 AND coalesce(NEW.revoked_reason, '') NOT IN ('replaced', "
            "'email_changed') AND NEW.status = 'used' AND NEW.used_at IS NOT NULL ON CONFLICT "
            '(day, hours) DO UPDATE SET n = activation_hours.n + excluded.n; INSERT INTO '
            'activation_products (product_id, product_name, n) SELECT NEW.product_id, '
            "coalesce(NEW.product_name, ''), 1 WHERE NEW.product_id IS NOT NULL ON CONFLICT "
            '(product_id, product_name) DO UPDATE SET n = activation_products.n + excluded.n; END',
            'CREATE TRIGGER kommo_won_totals_ins AFTER INSERT ON kommo_leads BEGIN INSERT INTO '
            "kommo_won_totals (currency, n, price) SELECT coalesce(NEW.currency, ''), 1, NEW.price "
            'WHERE NEW.is_won = 1 AND NEW.price IS NOT NULL ON CONFLICT (currency) DO UPDATE SET n '
            '= kommo_won_totals.n + excluded.n, price = kommo_won_totals.price + excluded.price; '
            'END',
            'CREATE TRIGGER kommo_won_totals_del AFTER DELETE ON kommo_leads BEGIN INSERT INTO '
            "kommo_won_totals (currency, n, price) SELECT coalesce(OLD.currency, ''), -1, "
            '-OLD.price WHERE OLD.is_won = 1 AND OLD.price IS NOT NULL ON CONFLICT (currency) DO '
            'UPDATE SET n = kommo_won_totals.n + excluded.n, price = kommo_won_totals.price + '
            'excluded.price; END',
            'CREATE TRIGGER kommo_won_totals_upd AFTER UPDATE ON kommo_leads WHEN OLD.is_won IS '
            'NOT NEW.is_won OR OLD.price IS NOT NEW.price OR OLD.currency IS NOT NEW.currency '
            'BEGIN INSERT INTO kommo_won_totals (currency, n, price) SELECT coalesce(OLD.currency, '
            "''), -1, -OLD.price WHERE OLD.is_won = 1 AND OLD.price IS NOT NULL ON CONFLICT "
            '(currency) DO UPDATE SET n = kommo_won_totals.n + excluded.n, price = '
            'kommo_won_totals.price + excluded.price; INSERT INTO kommo_won_totals (currency, n, '
            "price) SELECT coalesce(NEW.currency, ''), 1, NEW.price WHERE NEW.is_won = 1 AND "
            'NEW.price IS NOT NULL ON CONFLICT (currency) DO UPDATE SET n = kommo_won_totals.n + '
            'excluded.n, price = kommo_won_totals.price + excluded.price; END']}

DROPS = {'postgresql': ['DROP TRIGGER IF EXISTS sales_daily_apply ON sales',
                'DROP FUNCTION IF EXISTS sales_daily_apply()',
                'DROP TRIGGER IF EXISTS activation_summaries_apply ON activation_links',
                'DROP FUNCTION IF EXISTS activation_summaries_apply()',
                'DROP TRIGGER IF EXISTS kommo_won_totals_apply ON kommo_leads',
                'DROP FUNCTION IF EXISTS kommo_won_totals_apply()'],
 'sqlite': ['DROP TRIGGER IF EXISTS sales_daily_ins',
            'DROP TRIGGER IF EXISTS sales_daily_del',
            'DROP TRIGGER IF EXISTS sales_daily_upd',
            'DROP TRIGGER IF EXISTS activation_summaries_ins',
            'DROP TRIGGER IF EXISTS activation_summaries_del',
            'DROP TRIGGER IF EXISTS activation_summaries_upd',
            'DROP TRIGGER IF EXISTS kommo_won_totals_ins',
            'DROP TRIGGER IF EXISTS kommo_won_totals_del',
            'DROP TRIGGER IF EXISTS kommo_won_totals_upd']}

RECOMPUTE = {'postgresql': [('sales_daily',
                 'day, platform, status, currency, is_test, n, amount_cents',
                 "SELECT to_char(timezone('America/Sao_Paulo', coalesce(s.approved_at, "
                 "s.status_at, s.created_at)), 'YYYY-MM-DD') AS day, s.platform, s.status, "
                 "coalesce(s.currency, '') AS currency, s.is_test, count(*) AS n, "
                 'sum(coalesce(s.amount_cents, 0)) AS amount_cents FROM sales s GROUP BY 1, 2, 3, '
                 '4, 5'),
                ('sales_totals',
                 'platform, status, currency, is_test, n, amount_cents',
                 "SELECT s.platform, s.status, coalesce(s.currency, '') AS currency, s.is_test, "
                 'count(*) AS n, sum(coalesce(s.amount_cents, 0)) AS amount_cents FROM sales s '
                 'GROUP BY 1, 2, 3, 4'),
                ('activation_daily',
                 'day, platform, product_id, product_name, created, sent, opened, used, expired, '
                 'revoked, pending',
                 "SELECT to_char(timezone('America/Sao_Paulo', l.created_at), 'YYYY-MM-DD') AS "
                 "day, l.platform, coalesce(l.product_id, '') AS product_id, "
                 "coalesce(l.product_name, '') AS product_name, sum(1) AS created, sum(CASE WHEN "
                 'l.sent_at IS NOT NULL THEN 1 ELSE 0 END) AS sent, sum(CASE WHEN l.opened_at IS '
                 "NOT NULL THEN 1 ELSE 0 END) AS opened, sum(CASE WHEN l.status = 'used' THEN 1 "
                 "ELSE 0 END) AS used, sum(CASE WHEN l.status = 'expired' THEN 1 ELSE 0 END) AS "
                 "expired, sum(CASE WHEN l.status = 'revoked' THEN 1 ELSE 0 END) AS revoked, "
                 "sum(CASE WHEN l.status = 'pending' THEN 1 ELSE 0 END) AS pending FROM "
                 "activation_links l WHERE l.is_test = false AND coalesce(l.revoked_reason, '') "
                 "NOT IN ('replaced', 'email_changed') GROUP BY 1, 2, 3, 4"),
                ('activation_hours',
                 'day, hours, n',
                 "SELECT to_char(timezone('America/Sao_Paulo', l.created_at), 'YYYY-MM-DD') AS "
                 'day, (floor(EXTRACT(epoch FROM l.used_at - l.created_at) / '
                 '3600::numeric)::integer) AS hours, count(*) AS n FROM activation_links l WHERE '
                 "l.is_test = false AND coalesce(l.revoked_reason, '') NOT IN ('replaced', "
                 "'email_changed') AND l.status = 'used' AND l.used_at IS NOT NULL GROUP BY 1, 2"),
                ('activation_products',
                 'product_id, product_name, n',
                 "SELECT l.product_id, coalesce(l.product_name, '') AS product_name, count(*) AS n "
                 'FROM activation_links l WHERE l.product_id IS NOT NULL GROUP BY 1, 2'),
                ('kommo_won_totals',
                 'currency, n, price',
                 "SELECT coalesce(k.currency, '') AS currency, count(*) AS n, sum(k.price) AS "
                 'price FROM kommo_leads k WHERE k.is_won = true AND k.price IS NOT NULL GROUP BY '
                 '1')],
 'sqlite': [('sales_daily',
             'day, platform, status, currency, is_test, n, amount_cents',
             "SELECT strftime('%Y-%m-%d', coalesce(s.approved_at, s.status_at, s.created_at), '-3 "
             "hours') AS day, s.platform, s.status, coalesce(s.currency, '') AS currency, "
             's.is_test, count(*) AS n, sum(coalesce(s.amount_cents, 0)) AS amount_cents FROM '
             'sales s GROUP BY 1, 2, 3, 4, 5'),
            ('sales_totals',
             'platform, status, currency, is_test, n, amount_cents',
             "SELECT s.platform, s.status, coalesce(s.currency, '') AS currency, s.is_test, "
             'count(*) AS n, sum(coalesce(s.amount_cents, 0)) AS amount_cents FROM sales s GROUP '
             'BY 1, 2, 3, 4'),
            ('activation_daily',
             'day, platform, product_id, product_name, created, sent, opened, used, expired, '
             'revoked, pending',
             "SELECT strftime('%Y-%m-%d', l.created_at, '-3 hours') AS day, l.platform, "
             "coalesce(l.product_id, '') AS product_id, coalesce(l.product_name, '') AS "
             'product_name, sum(1) AS created, sum(CASE WHEN l.sent_at IS NOT NULL THEN 1 ELSE 0 '
             'END) AS sent, sum(CASE WHEN l.opened_at IS NOT NULL THEN 1 ELSE 0 END) AS opened, '
             "sum(CASE WHEN l.status = 'used' THEN 1 ELSE 0 END) AS used, sum(CASE WHEN l.status = "
             "'expired' THEN 1 ELSE 0 END) AS expired, sum(CASE WHEN l.status = 'revoked' THEN 1 "
             "ELSE 0 END) AS revoked, sum(CASE WHEN l.status = 'pending' THEN 1 ELSE 0 END) AS "
             'pending FROM activation_links l WHERE l.is_test = 0 AND coalesce(l.revoked_reason, '
             "'') NOT IN ('replaced', 'email_changed') GROUP BY 1, 2, 3, 4"),
            ('activation_hours',
             'day, hours, n',
             "SELECT strftime('%Y-%m-%d', l.created_at, '-3 hours') AS day, "
             'CAST((julianday(l.used_at) - julianday(l.created_at)) * 24 AS INTEGER) AS hours, '
             'count(*) AS n FROM activation_links l WHERE l.is_test = 0 AND '
             "coalesce(l.revoked_reason, '') NOT IN ('replaced', 'email_changed') AND l.status = "
             "'used' AND l.used_at IS NOT NULL GROUP BY 1, 2"),
            ('activation_products',
             'product_id, product_name, n',
             "SELECT l.product_id, coalesce(l.product_name, '') AS product_name, count(*) AS n "
             'FROM activation_links l WHERE l.product_id IS NOT NULL GROUP BY 1, 2'),
            ('kommo_won_totals',
             'currency, n, price',
             "SELECT coalesce(k.currency, '') AS currency, count(*) AS n, sum(k.price) AS price "
             'FROM kommo_leads k WHERE k.is_won = 1 AND k.price IS NOT NULL GROUP BY 1')]}

USED_HOURS = {'postgresql': '(floor(EXTRACT(epoch FROM used_at - created_at) / 3600::numeric)::integer)',
 'sqlite': 'CAST((julianday(used_at) - julianday(created_at)) * 24 AS INTEGER)'}


def _rebuild(bind):
    for table, columns, select_sql in RECOMPUTE[bind.dialect.name]:
        bind.execute(sa.text(f"DELETE FROM {table}"))
        bind.execute(sa.text(f"INSERT INTO {table} ({columns}) {select_sql}"))


# revision identifiers, used by Alembic.
revision = 'a1c3e5f7b9d2'
down_revision = '3f6a9c1d2b7e'
branch_labels = None
depends_on = None


def upgrade():
    # ### commands auto generated by Alembic - please adjust! ###
    op.create_table('activation_daily',
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('product_id', sa.String(length=255), nullable=False),
    sa.Column('product_name', sa.String(length=255), nullable=False),
    sa.Column('created', sa.Integer(), nullable=False),
    sa.Column('sent', sa.Integer(), nullable=False),
    sa.Column('opened', sa.Integer(), nullable=False),
    sa.Column('used', sa.Integer(), nullable=False),
    sa.Column('expired', sa.Integer(), nullable=False),
    sa.Column('revoked', sa.Integer(), nullable=False),
    sa.Column('pending', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'platform', 'product_id', 'product_name', name=op.f('pk_activation_daily'))
    )
    op.create_table('activation_hours',
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('hours', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'hours', name=op.f('pk_activation_hours'))
    )
    op.create_table('activation_products',
    sa.Column('product_id', sa.String(length=255), nullable=False),
    sa.Column('product_name', sa.String(length=255), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('product_id', 'product_name', name=op.f('pk_activation_products'))
    )
    op.create_table('kommo_won_totals',
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('price', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('currency', name=op.f('pk_kommo_won_totals'))
    )
    op.create_table('sales_daily',
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('currency', sa.String(length=8), nullable=False),
    sa.Column('is_test', sa.Boolean(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'platform', 'status', 'currency', 'is_test', name=op.f('pk_sales_daily'))
    )
    op.create_table('sales_totals',
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('currency', sa.String(length=8), nullable=False),
    sa.Column('is_test', sa.Boolean(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('platform', 'status', 'currency', 'is_test', name=op.f('pk_sales_totals'))
    )
    with op.batch_alter_table('activation_links', schema=None) as batch_op:
        batch_op.create_index('ix_activation_links_created_id', ['created_at', 'id'], unique=False)
        batch_op.create_index('ix_activation_links_status_created_used', ['status', 'created_at', 'used_at', 'is_test', 'revoked_reason'], unique=False)

    with op.batch_alter_table('gc_clients', schema=None) as batch_op:
        batch_op.create_index('ix_gc_clients_nome_id', ['nome', 'id'], unique=False)

    with op.batch_alter_table('gc_products', schema=None) as batch_op:
        batch_op.create_index('ix_gc_products_nome_id', ['nome', 'id'], unique=False)

    with op.batch_alter_table('kommo_contacts', schema=None) as batch_op:
        batch_op.create_index('ix_kommo_contacts_updated_id', ['remote_updated_at', 'id'], unique=False)

    with op.batch_alter_table('kommo_leads', schema=None) as batch_op:
        batch_op.create_index('ix_kommo_leads_updated_id', ['remote_updated_at', 'id'], unique=False)

    with op.batch_alter_table('sales', schema=None) as batch_op:
        batch_op.create_index('ix_sales_status_status_at', ['status', 'status_at', 'is_test', 'approved_at'], unique=False)
    op.create_index(
        'ix_sales_when_id',
        'sales',
        [sa.text('coalesce(approved_at, status_at, created_at)'), 'id'],
        unique=False,
    )

    with op.batch_alter_table('webhook_events', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_events_platform_received', ['platform', 'received_at', 'id'], unique=False)
        batch_op.create_index('ix_webhook_events_received_id', ['received_at', 'id'], unique=False)

    # ### end Alembic commands ###
    bind = op.get_bind()
    op.create_index(
        'ix_activation_links_used_hour',
        'activation_links',
        [
            'status',
            sa.text(USED_HOURS[bind.dialect.name]),
            'created_at',
            'used_at',
            'is_test',
            'revoked_reason',
        ],
        unique=False,
    )
    for statement in TRIGGERS[bind.dialect.name]:
        op.execute(statement)
    _rebuild(bind)


def downgrade():
    for statement in DROPS[op.get_bind().dialect.name]:
        op.execute(statement)
    op.drop_index('ix_sales_when_id', table_name='sales')
    op.drop_index('ix_activation_links_used_hour', table_name='activation_links')
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table('webhook_events', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_events_received_id')
        batch_op.drop_index('ix_webhook_events_platform_received')

    with op.batch_alter_table('sales', schema=None) as batch_op:
        batch_op.drop_index('ix_sales_status_status_at')

    with op.batch_alter_table('kommo_leads', schema=None) as batch_op:
        batch_op.drop_index('ix_kommo_leads_updated_id')

    with op.batch_alter_table('kommo_contacts', schema=None) as batch_op:
        batch_op.drop_index('ix_kommo_contacts_updated_id')

    with op.batch_alter_table('gc_products', schema=None) as batch_op:
        batch_op.drop_index('ix_gc_products_nome_id')

    with op.batch_alter_table('gc_clients', schema=None) as batch_op:
        batch_op.drop_index('ix_gc_clients_nome_id')

    with op.batch_alter_table('activation_links', schema=None) as batch_op:
        batch_op.drop_index('ix_activation_links_status_created_used')
        batch_op.drop_index('ix_activation_links_created_id')

    op.drop_table('sales_totals')
    op.drop_table('sales_daily')
    op.drop_table('kommo_won_totals')
    op.drop_table('activation_products')
    op.drop_table('activation_hours')
    op.drop_table('activation_daily')
    # ### end Alembic commands ###
