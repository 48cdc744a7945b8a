"""Rate limits per tenant (requests, tokens and concurrent calls per minute) and the
ceilings of the shared provider keys: the pure rules, the in-process limiter and the
Redis one. The pipeline step is :mod:`ai_gateway.pipeline.rate_limit`; the settings'
owner is :mod:`ai_gateway.services.rate_limits`."""
