#!/usr/bin/env bash
# Run the overhead benchmark from the repository root with the project's interpreter.
#   benchmarks/overhead/run.sh [--duration 15] [--rounds 3] [--postgres URL] ...
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON="${PYTHON:-.venv/bin/python}"
PYTHONPATH="src:.${PYTHONPATH:+:$PYTHONPATH}" exec "$PYTHON" -m benchmarks.overhead "$@"
