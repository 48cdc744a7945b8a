"""Workload benchmark: a synthetic multi-tenant WhatsApp load replayed through the real
gateway pipeline, to measure the cache hit rate and the cost reduction on realistic
traffic. See ``README.md`` and docs/PERFORMANCE.md ("Cache hit rate and cost reduction")."""
