"""A real ``serve`` process flooded with 2,000 silent connections and a ceiling of 500:
its descriptors stay under the ceiling, /healthz answers on fresh connections all along,
and every idle connection is closed by the head deadline (the 20,000 figure comes from
``python -m benchmarks.idle_connections``, see docs/PERFORMANCE.md)."""

from __future__ import annotations

from benchmarks.idle_connections import flood


async def test_a_flood_of_idle_connections_stays_under_the_ceiling() -> None:
    result = await flood(2000, max_connections=500, header_timeout=2.0)
    assert result.server_fds_peak <= result.server_fds_before + 500 + 16, result
    assert result.health_ok == result.health_probes and result.health_probes >= 10, result
    assert result.closed_by_server == 2000, result
    assert result.server_fds_after <= result.server_fds_before + 4, result
