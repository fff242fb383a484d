#!/usr/bin/env bash
# The sandbox: OpenRouter keys as code against the local emulator, no account and no network.
#
#   scripts/sandbox.sh [--stack NAME] [--port N] COMMAND
#
#   emulator        start the emulator on 127.0.0.1:PORT (foreground), seeded with the sandbox
#                   management key that stacks/Pulumi.sandbox.yaml holds
#   up              pulumi up --refresh on the stack (created on first use); --refresh because
#                   the emulator forgets its keys when it stops, and refresh shows that drift
#                   before acting on it
#   demo            the whole job in one command, leaving nothing behind: the emulator in the
#                   background and a throwaway backend, up, a preview that shows no changes, the
#                   keys the emulator holds
#   pulumi ARGS...  any pulumi command on the stack (preview --diff, refresh, destroy, stack
#                   export, config set ...)
#   audit ARGS...   python -m cli audit on the stack, against its emulator (docs/cli.md)
#
# --stack NAME runs stacks/Pulumi.NAME.yaml instead of the sandbox (default: sandbox). The script
# hands it the emulator's URL and throwaway management key through OPENROUTER_API_BASE_URL and
# OPENROUTER_MANAGEMENT_KEY, so its file sets neither (or sets apiBaseUrl to the emulator's URL),
# and declares no GitHub or Vercel consumer: scripts/sandbox_stack.py checks it first.
# --port N is its emulator's port: the one the file's apiBaseUrl names (8787 for the sandbox), else
# N, else 8788, apart from the sandbox's, so its workspaces and guardrails never meet the sandbox's.
#
# Backend: a local file backend in .pulumi/ (git-ignored) unless PULUMI_BACKEND_URL is set.
# Secrets: the passphrase provider with the throwaway passphrase "sandbox" unless
# PULUMI_CONFIG_PASSPHRASE is set. The Pulumi CLI is bin/pulumi (scripts/build-engine.sh) when
# built, else `pulumi` on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
STACK=sandbox
ASKED_PORT=
PYTHON=$ROOT/.venv/bin/python

die() { echo "sandbox: $*" >&2; exit 1; }
usage() { sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'; }

while [[ ${1:-} == --* ]]; do
  case $1 in
    --stack) [[ -n ${2:-} ]] || die "--stack needs a stack name"; STACK=$2; shift 2 ;;
    --port) [[ ${2:-} =~ ^[0-9]+$ ]] || die "--port needs a number"; ASKED_PORT=$2; shift 2 ;;
    --help) usage; exit 0 ;;
    *) usage; exit 2 ;;
  esac
done

[[ -x $PYTHON ]] || die "no .venv: run 'python3 -m venv .venv && .venv/bin/pip install -r requirements.txt' first"
STACK_FILE=stacks/Pulumi.$STACK.yaml
[[ -f $STACK_FILE ]] || [[ -z ${1:-} ]] ||
  die "no $STACK_FILE: write the stack file first (docs/emulator.md#your-own-stack-on-the-emulator)"
if [[ -f $STACK_FILE ]]; then
  # Exits 2 with every reason the stack cannot run on the emulator; else prints its port.
  PORT=$("$PYTHON" scripts/sandbox_stack.py "$STACK_FILE" $ASKED_PORT) || exit 2
fi
PORT=${PORT:-8787}
API_BASE_URL=http://127.0.0.1:$PORT/api/v1
STACK_OPTION=$([[ $STACK == sandbox ]] || echo "--stack $STACK ")
# The emulator's URL and throwaway key for a stack whose file leaves them out; never a key of
# the caller's environment.
export OPENROUTER_API_BASE_URL=$API_BASE_URL
OPENROUTER_MANAGEMENT_KEY=$("$PYTHON" -c 'from emulator import SANDBOX_MANAGEMENT_KEY as k; print(k)')
export OPENROUTER_MANAGEMENT_KEY
unset OPENROUTER_PROVISIONING_KEY

export PULUMI_BACKEND_URL=${PULUMI_BACKEND_URL:-file://$ROOT/.pulumi}
export PULUMI_CONFIG_PASSPHRASE=${PULUMI_CONFIG_PASSPHRASE:-sandbox}
export PULUMI_SKIP_UPDATE_CHECK=1
# A stack on the emulator declares no GitHub or Vercel consumers: never try to download plugins.
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=1
if [[ -x $ROOT/bin/pulumi ]]; then
  # The language host and the dynamic-provider launcher sit beside the CLI; bin/ must come first.
  export PATH=$ROOT/bin:$PATH
fi

pulumi_cli() {
  command -v pulumi >/dev/null 2>&1 ||
    die "no Pulumi CLI: run scripts/build-engine.sh (builds bin/pulumi) or install the Pulumi CLI"
  pulumi "$@"
}

select_stack() {
  [[ $PULUMI_BACKEND_URL == file://* ]] && mkdir -p "${PULUMI_BACKEND_URL#file://}"
  pulumi_cli stack select --create "$STACK" --non-interactive >/dev/null
}

emulator_up() { "$PYTHON" -c "import sys, urllib.request
try:
    urllib.request.urlopen('http://127.0.0.1:$PORT/_emulator/keys', timeout=1)
except Exception:
    sys.exit(1)"; }

case ${1:-} in
  emulator)
    shift
    exec "$PYTHON" -m emulator --port "$PORT" "$@"
    ;;
  up)
    shift
    emulator_up || die "the emulator is not answering on 127.0.0.1:$PORT: start it with '$0 ${STACK_OPTION}emulator'"
    select_stack
    pulumi_cli up --stack "$STACK" --refresh --yes "$@"
    ;;
  pulumi)
    shift
    select_stack
    pulumi_cli "$@" --stack "$STACK"
    ;;
  audit)
    shift
    emulator_up || die "the emulator is not answering on 127.0.0.1:$PORT: start it with '$0 ${STACK_OPTION}emulator'"
    select_stack
    exec "$PYTHON" -m cli audit --stack "$STACK" "$@"
    ;;
  demo)
    emulator_up && die "an emulator already answers on 127.0.0.1:$PORT: stop it, or use '$0 ${STACK_OPTION}up'"
    DEMO_DIR=$(mktemp -d)
    export PULUMI_BACKEND_URL=file://$DEMO_DIR
    "$PYTHON" -m emulator --port "$PORT" &
    EMULATOR_PID=$!
    trap 'kill "$EMULATOR_PID" 2>/dev/null || true; rm -rf "$DEMO_DIR"' EXIT
    for _ in $(seq 100); do emulator_up && break; sleep 0.1; done
    emulator_up || die "the emulator did not start on 127.0.0.1:$PORT"
    select_stack
    echo "== pulumi up (the emulator starts empty: every key is created)"
    pulumi_cli up --stack "$STACK" --yes
    echo "== pulumi preview right after up: no changes"
    pulumi_cli preview --stack "$STACK" --expect-no-changes
    echo "== the keys the emulator now holds (name, limit, reset)"
    "$PYTHON" -c "import json, urllib.request
keys = json.load(urllib.request.urlopen('http://127.0.0.1:$PORT/_emulator/keys', timeout=5))['data']
for key in keys:
    print(f\"  {key['name']:32} limit={key['limit']} reset={key['limit_reset']}\")"
    ;;
  *)
    usage
    [[ -z ${1:-} ]] || exit 2
    ;;
esac
