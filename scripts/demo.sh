#!/usr/bin/env bash
# `make demo`: the app on its own SQLite file, the platform emulator, demo credentials pointed
# at it and a handful of signed sample webhooks, so every page has data.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
FLASK=".venv/bin/flask --app wsgi"
APP_PORT="${PORT:-5000}"
EMU_PORT="${EMULATOR_PORT:-5055}"
MAIL_SMTP_PORT="${DEMO_SMTP_PORT:-1025}"
MAIL_WEB_PORT="${DEMO_MAIL_PORT:-5056}"

mkdir -p instance
export DATABASE_URL="${DEMO_DATABASE_URL:-sqlite:///$PWD/instance/demo.db}"
export APP_URL="http://127.0.0.1:${APP_PORT}"
export SCHEDULER_ENABLED="${SCHEDULER_ENABLED:-true}"
# Demo-only webhook secrets (the emulator's sender signs with the same values).
export HOTMART_WEBHOOK_HOTTOK="demo-hottok-0123456789"
export KIWIFY_WEBHOOK_SECRET="demo-kiwify-token-0123456789"
export KIRVANO_WEBHOOK_SECRET="demo-kirvano-token-0123456789"
export EDUZZ_WEBHOOK_SECRET="demo-eduzz-key-0123456789"

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM

$PY -m emulator --port "$EMU_PORT" --now today >instance/emulator.log 2>&1 &
pids+=($!)
# A local mail catcher: the app's e-mails (activation links…) can be opened in the browser,
# and their links are printed here too. Nothing leaves this computer.
$PY -m emulator.mailbox --smtp-port "$MAIL_SMTP_PORT" --http-port "$MAIL_WEB_PORT" &
pids+=($!)
export SMTP_HOST=127.0.0.1 SMTP_PORT="$MAIL_SMTP_PORT" SMTP_USE_TLS=false
export SMTP_FROM="Loja Demo <loja@demo.localhost>"
eval "$($PY -m emulator env --port "$EMU_PORT")"

$FLASK db upgrade
$FLASK run --host 127.0.0.1 --port "$APP_PORT" &
pids+=($!)

for _ in $(seq 1 50); do
  if $PY - "$APP_PORT" <<'PYEOF' 2>/dev/null; then break; fi
import sys, urllib.request
urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/healthz", timeout=1)
PYEOF
  sleep 0.2
done

# Fixed transaction ids: a restarted demo sends the same sales again, which the app dedupes.
send() {  # platform event secret [extra args]
  $PY -m emulator send-webhook "$1" "$2" --to "$APP_URL/webhook/$1" --secret "$3" "${@:4}" \
    >/dev/null || echo "demo: webhook $1 $2 failed" >&2
}
send hotmart approved "$HOTMART_WEBHOOK_HOTTOK" --email maria.souza@example.com --name "Maria Souza" --transaction HPDEMO0001
send hotmart approved "$HOTMART_WEBHOOK_HOTTOK" --email joao.lima@example.com --name "João Lima" --transaction HPDEMO0002
send hotmart refunded "$HOTMART_WEBHOOK_HOTTOK" --email joao.lima@example.com --name "João Lima" --transaction HPDEMO0002
send kiwify approved "$KIWIFY_WEBHOOK_SECRET" --email ana.costa@example.com --name "Ana Costa" --transaction KWDEMO0001
send kiwify pix_generated "$KIWIFY_WEBHOOK_SECRET" --email pedro@example.com --transaction KWDEMO0002
send kirvano approved "$KIRVANO_WEBHOOK_SECRET" --email carla.dias@example.com --name "Carla Dias" --transaction KVDEMO0001
send kirvano abandoned_cart "$KIRVANO_WEBHOOK_SECRET" --email lucas@example.com --transaction KVDEMO0002
send eduzz approved "$EDUZZ_WEBHOOK_SECRET" --email bruna.alves@example.com --name "Bruna Alves" --transaction 70000001

cat <<MSG

  Vendas Hub (demo) em $APP_URL — crie o operador em $APP_URL/setup
  Emulador das plataformas em http://127.0.0.1:$EMU_PORT (log em instance/emulator.log)
  Caixa de e-mails da demonstração em http://127.0.0.1:$MAIL_WEB_PORT — abra o link de ativação
  de um comprador de exemplo para criar a conta dele (os links também aparecem aqui embaixo).
  Webhooks de exemplo enviados.
  Ctrl-C encerra tudo.

MSG
wait "${pids[2]}"
