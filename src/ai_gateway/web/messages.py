"""Words the dashboard shows for the API's own vocabulary: error codes, call statuses and
fallback reasons.

The API speaks English and stable codes (``{"error": {"code": "limit_not_positive"}}``,
``status: "success"``, ``fallback_reason: "server_error"``); a page must not show those
raw in Portuguese. Each table maps a code to an English message id, translated through
the same ``.po`` catalog as the templates (``N_`` only marks the ids for extraction).
``tests/web/test_i18n.py`` fails when a code raised anywhere in ``src`` has no entry
here, or an entry has no pt-BR translation.
"""

from __future__ import annotations

from ai_gateway.i18n import translations

__all__ = [
    "ERRORS",
    "GENERIC",
    "N_",
    "REASONS",
    "ROUTES",
    "STATUSES",
    "error_catalog",
    "reason_catalog",
    "reason_label",
    "route_label",
    "status_label",
]


def N_(message: str) -> str:
    return message


#: error code -> message. ``{param}`` is replaced by the field's label on the page.
ERRORS: dict[str, str] = {
    # generic, by kind
    "invalid_request": N_("The request was not accepted; check the values."),
    "invalid_value": N_("Invalid value in {param}."),
    "invalid_json": N_("The request is not valid JSON."),
    "not_a_number": N_("Enter a number, like 1,000.50 or 1000.50."),
    "ambiguous_number": N_("This number reads two ways; write it like 1,000.50 or 1000.50."),
    "internal_error": N_("Something failed on the server; the operator can see it in the logs."),
    "invalid_api_key": N_("Your session ended or the key was revoked; sign in again."),
    "forbidden": N_("Your key is not allowed to do this."),
    "csrf_failed": N_("The page expired; reload it and try again."),
    "not_found": N_("Not found: it may have been removed already."),
    "method_not_allowed": N_("This action is not available here."),
    "conflict": N_("This conflicts with something that exists already."),
    "payload_too_large": N_("The request is too large."),
    "rate_limited": N_("Too many requests; wait a moment and try again."),
    "rate_limit_exceeded": N_("Too many requests; wait a moment and try again."),
    "upstream_rate_limited": N_("The AI providers are busy; wait a moment and try again."),
    "too_many_connections": N_("The gateway is busy; try again in a moment."),
    "storage_unavailable": N_("The database is unavailable; try again in a moment."),
    "configuration_error": N_("The gateway is misconfigured; the operator must act."),
    "vault_error": N_("The stored keys cannot be read: check the master key."),
    "otel_missing": N_("Tracing is configured but OpenTelemetry is not installed."),
    "shutting_down": N_("The gateway is restarting; try again in a moment."),
    # budgets
    "limit_not_positive": N_("The limit must be greater than 0."),
    "limit_not_whole": N_("A tokens limit must be a whole number."),
    "too_many_decimals": N_("Use at most 10 decimal places."),
    "unknown_budget_type": N_("Choose tokens, BRL or USD."),
    "unknown_period": N_("Choose daily, weekly or monthly."),
    "thresholds_empty": N_("Choose at least one alert threshold."),
    "threshold_out_of_range": N_("Alert thresholds are whole percentages from 1 to 100."),
    "thresholds_not_ascending": N_("Alert thresholds must be in ascending order."),
    "budget_above_plan_ceiling": N_("This limit is above the most the client's plan allows."),
    "budget_exceeded": N_("The budget is used up."),
    "client_paused": N_("This client is paused."),
    # configuration, models, clients, keys, cache
    "nothing_to_change": N_("Nothing to save: change a value first."),
    "field_required": N_("{param} cannot be empty."),
    "model_not_found": N_("This model does not exist or is inactive."),
    "model_not_active": N_("Choose an active model."),
    "unknown_models": N_("The chain names models that do not exist."),
    "unknown_provider": N_("Unknown provider."),
    "master_key_missing": N_("No master key is configured, so provider keys cannot be stored."),
    "admin_only": N_("This is for administrators."),
    "unknown_timezone": N_("Unknown time zone; use a name like America/Sao_Paulo."),
    "unknown_plan": N_("Unknown plan."),
    "invalid_status": N_("Unknown status."),
    "name_taken": N_("This name is taken; choose another."),
    "percent_out_of_range": N_("The percentage must be between 0 and 100."),
    "client_id_required": N_("Choose a client first."),
    "cannot_revoke_self": N_("A key cannot revoke itself; use another admin key."),
    "invalid_filters": N_("These filters cannot be combined."),
    "no_keys_configured": N_("No provider keys configured: add one above first."),
    "no_active_model": N_("No active model for this provider."),
    # endpoints: embeddings, transcriptions, responses
    "model_kind_mismatch": N_("This model cannot be used on this endpoint; choose another."),
    "invalid_form": N_("The form could not be read; send it as multipart/form-data."),
    "unreadable_audio": N_("The audio file could not be read."),
    "response_not_found": N_("This stored response does not exist, expired, or is not yours."),
    # request explorer
    "invalid_cursor": N_("This page link is no longer valid; start from the first page."),
    "invalid_filter": N_("One of the filters has a value that does not exist."),
    "invalid_date_range": N_("Check the dates: the end must not be before the start."),
    "request_not_found": N_("This request does not exist or is not yours."),
    "retention_out_of_range": N_("Keep bodies for 1 to 365 days."),
    # upstream
    "upstream_failed": N_("Every provider of the chain failed."),
    "upstream_timeout": N_("The provider took too long to answer."),
    "upstream_bad_request": N_("The provider refused the request."),
    "upstream_not_found": N_("The provider does not know this model."),
    "stream_cut": N_("The provider cut the answer short."),
    # jobs and webhooks
    "job_failed": N_("The job failed; see the logs."),
    "cron_disabled": N_("Scheduled-job routes are disabled."),
    "invalid_cron_secret": N_("Wrong cron secret."),
    "invalid_signature": N_("Invalid signature."),
    "invalid_metrics_token": N_("Wrong or missing metrics token."),
    "whatsapp_send_failed": N_("The WhatsApp message could not be sent."),
    "whatsapp_media_too_large": N_("The WhatsApp media file is too large."),
    # alert settings and the test alert
    "invalid_webhook_url": N_("A webhook must be an http:// or https:// URL with a host."),
    "webhook_not_public": N_("This webhook points at a loopback or private address: refused."),
    "webhook_host_unresolvable": N_("The webhook's host name does not resolve."),
    "no_alert_contact": N_("No contact configured: add an e-mail or a webhook first."),
    "smtp_not_configured": N_("No SMTP relay is configured, so e-mail cannot be sent."),
    "webhook_secret_missing": N_("No signing secret: generate one, then test again."),
    "alert_delivery_failed": N_("Delivery failed; the receiver did not accept the alert."),
}

#: Codes whose English server message says more than the generic text (a field, a value):
#: an English page shows the server's message for these.
GENERIC = frozenset({"invalid_request", "invalid_value", "internal_error", "conflict"})

#: ``gateway_usage_logs.status`` -> label.
STATUSES: dict[str, str] = {
    "success": N_("success"),
    "error": N_("error"),
    "rejected": N_("rejected"),
    "abandoned": N_("abandoned"),
    "cut": N_("cut off"),
}

#: ``gateway_usage_logs.route`` -> label.
ROUTES: dict[str, str] = {
    "gateway": N_("via the AI Gateway"),
    "direct": N_("direct to the provider"),
    "legacy": N_("legacy (imported)"),
}

#: ``ProviderError.reason`` (and the dispatcher's own) -> label.
REASONS: dict[str, str] = {
    "timeout": N_("timeout"),
    "connection_error": N_("connection error"),
    "rate_limited": N_("rate limited by the provider"),
    "server_error": N_("provider error"),
    "upstream_error": N_("provider error"),
    "bad_request": N_("request refused"),
    "auth": N_("provider key refused"),
    "not_found": N_("model unknown to the provider"),
    "stream_cut": N_("stream cut"),
    "no_adapter": N_("no adapter"),
    "circuit_open": N_("provider paused after failures"),
    "no_active_model": N_("no active model"),
}


def error_catalog(locale: str) -> dict[str, str]:
    """Every error code's message in ``locale`` (what ``app.js`` shows for an API error)."""
    gettext = translations(locale).gettext
    return {code: gettext(message) for code, message in ERRORS.items()}


def reason_catalog(locale: str) -> dict[str, str]:
    """Every fallback / test-failure reason in ``locale``."""
    gettext = translations(locale).gettext
    return {code: gettext(message) for code, message in REASONS.items()}


def status_label(locale: str, status: str | None) -> str:
    if not status:
        return "—"
    message = STATUSES.get(status)
    return translations(locale).gettext(message) if message else status


def reason_label(locale: str, reason: str | None) -> str:
    """A fallback reason in words: its kind (``server_error: 503 ...`` -> ``server_error``)
    translated; the raw text stays available to the page as a title."""
    if not reason:
        return "—"
    kind = reason.split(":", 1)[0].strip()
    message = REASONS.get(kind)
    return translations(locale).gettext(message) if message else kind


def route_label(locale: str, route: str | None) -> str:
    if not route:
        return "—"
    message = ROUTES.get(route)
    return translations(locale).gettext(message) if message else route
