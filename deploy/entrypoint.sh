#!/bin/sh
# The container's (and any plain host's) entrypoint.
#   serve    (default) run the HTTP service: HOST, PORT, WEB_CONCURRENCY (workers)
#   migrate  apply the database migrations once and exit (the one-shot job)
#   *        any other ai-gateway command, e.g. `db backup --output /backup/gw.dump`
# Settings come from AI_GATEWAY_* variables (see the README); `exec` makes the gateway
# PID 1's direct replacement, so SIGTERM from the orchestrator reaches uvicorn and the
# graceful shutdown (usage rows flushed) runs.
set -eu

command="${1:-serve}"
[ "$#" -gt 0 ] && shift

case "$command" in
  serve)
    exec ai-gateway serve \
      --host "${HOST:-0.0.0.0}" \
      --port "${PORT:-8080}" \
      --workers "${WEB_CONCURRENCY:-2}" "$@"
    ;;
  migrate)
    exec ai-gateway migrate "$@"
    ;;
  *)
    exec ai-gateway "$command" "$@"
    ;;
esac
