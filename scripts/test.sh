#!/usr/bin/env bash
# Install everything the tests need, then lint, type-check and run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
# The browser tests drive Debian's Chromium (Playwright never downloads a browser here).
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium
  else
    sudo -n apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
      sudo -n apt-get install -y -qq --no-install-recommends chromium \
      || echo "chromium is missing and cannot be installed: the browser tests will skip (fail with CI=true)"
  fi
fi
# The cluster tests put Debian's nginx in front of three replicas (skipped without it).
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx-light
  else
    sudo -n apt-get update -qq && sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx-light \
      || echo "nginx is missing and cannot be installed: the cluster tests will skip (fail with CI=true)"
  fi
fi
python3 -m venv .venv
.venv/bin/pip install --quiet --upgrade pip
.venv/bin/pip install --quiet -e ".[dev]"
echo "== ruff"
.venv/bin/ruff check src tests benchmarks
.venv/bin/ruff format --check src tests benchmarks
echo "== mypy"
.venv/bin/mypy
echo "== pytest"
# Two processes (AI_GATEWAY_TEST_WORKERS to change): each has its own PostgreSQL database
# and Redis database (tests/conftest.py), so they never share state.
exec .venv/bin/python -m pytest -q -n "${AI_GATEWAY_TEST_WORKERS:-2}" --dist worksteal "$@"
