#!/usr/bin/env bash
# Set up a virtualenv with the gateway and run it on the embedded default (a SQLite file).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install --quiet --upgrade pip
.venv/bin/pip install --quiet -e .
exec .venv/bin/ai-gateway serve "$@"
