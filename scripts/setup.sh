#!/usr/bin/env bash
# Install step of the quick start, and the first half of .ci/run: the project's virtualenv
# (.venv, the one Pulumi.yaml names, so the provider process runs the same interpreter) with the
# pinned requirements, then the Pulumi engine built from the Go module proxy into bin/.
# Safe to run again: pip and the Go caches make a second run take seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== virtualenv (.venv, as Pulumi.yaml names it)"
[[ -x .venv/bin/python ]] || python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt

echo "== Pulumi engine from source (end-to-end tests skip with the reason when this fails)"
if ! bash scripts/build-engine.sh; then
  echo "engine build failed (bin/ENGINE-UNAVAILABLE.txt says why); the e2e tests will skip and say why"
fi
