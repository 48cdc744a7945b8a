"""Collect the runs of every round and render the markdown table (medians, with the
spread over rounds in brackets so the noise is visible)."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from benchmarks.overhead.ttfb import TtfbResult
from benchmarks.overhead.wrk import WrkResult

__all__ = ["Results", "render"]


@dataclass
class Results:
    started: str
    python: str
    duration: float
    rounds: int
    database: str
    runs: dict[str, list[WrkResult]] = field(default_factory=dict)
    cpu_us: dict[str, list[float]] = field(default_factory=dict)  # gateway CPU per request
    rows: list[dict[str, Any]] = field(default_factory=list)
    ttfb_direct: list[TtfbResult] = field(default_factory=list)
    ttfb_gateway: list[TtfbResult] = field(default_factory=list)
    ttfb_warm_direct: list[TtfbResult] = field(default_factory=list)
    ttfb_warm_gateway: list[TtfbResult] = field(default_factory=list)
    final_rows: int = 0
    final_by_status: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, result: WrkResult) -> None:
        self.runs.setdefault(name, []).append(result)

    def add_cpu(self, name: str, per_request_us: float) -> None:
        self.cpu_us.setdefault(name, []).append(per_request_us)

    def add_rows(self, name: str, **facts: Any) -> None:
        self.rows.append({"run": name, **facts})

    def raw(self) -> dict[str, Any]:
        return {
            **{k: v for k, v in asdict(self).items() if k not in ("runs",)},
            "runs": {k: [asdict(r) | {"rps": r.rps} for r in v] for k, v in self.runs.items()},
        }


def _spread(values: list[float], fmt: str) -> str:
    if not values:
        return "—"
    median = format(statistics.median(values), fmt)
    if len(values) == 1:
        return median
    return f"{median} [{format(min(values), fmt)}–{format(max(values), fmt)}]"


def _per_round(
    res: Results, a: str, b: str, value: Callable[[WrkResult], float]
) -> tuple[list[float], list[float], list[float]]:
    left = [value(r) for r in res.runs.get(a, [])]
    right = [value(r) for r in res.runs.get(b, [])]
    n = min(len(left), len(right))
    return left, right, [right[i] - left[i] for i in range(n)]


def _latency_row(res: Results, label: str, up: str, gw: str, pct: str, target: str) -> str:
    def pick(r: WrkResult) -> float:
        return r.p50_ms if pct == "p50" else r.p99_ms

    left, right, added = _per_round(res, up, gw, pick)
    return (
        f"| {label} | {_spread(left, '.3f')} ms | {_spread(right, '.3f')} ms | "
        f"+{_spread(added, '.3f')} ms | {target} |"
    )


def _rps_row(res: Results, label: str, up: str, gw: str, target: str) -> str:
    left = [r.rps for r in res.runs.get(up, [])]
    right = [r.rps for r in res.runs.get(gw, [])]
    p99 = [r.p99_ms for r in res.runs.get(gw, [])]
    return (
        f"| {label} | {_spread(left, ',.0f')} req/s | {_spread(right, ',.0f')} req/s "
        f"(P99 {_spread(p99, '.1f')} ms) | — | {target} |"
    )


def render(res: Results, *, partial: bool = False) -> str:
    lines = [
        f"Overhead benchmark ({res.database}, {res.duration:g} s runs, "
        f"{len(res.runs.get('upstream json c1', []))} of {res.rounds} rounds, Python "
        f"{res.python}, started {res.started}). Median [min–max over rounds].",
        "",
        "| figure | upstream alone | through the gateway | added | target |",
        "|---|---|---|---|---|",
        _latency_row(res, "P50 at c=1", "upstream json c1", "gw1 json c1", "p50", "≤ +0.5 ms"),
        _latency_row(res, "P99 at c=1", "upstream json c1", "gw1 json c1", "p99", "≤ +2 ms"),
        _latency_row(
            res, "P50 at c=1, stream (last byte)", "upstream stream c1", "gw1 stream c1", "p50", "—"
        ),
        _latency_row(
            res, "P99 at c=1, stream (last byte)", "upstream stream c1", "gw1 stream c1", "p99", "—"
        ),
    ]
    if "gw1 hit c1" in res.runs:
        lines.append(
            _latency_row(
                res, "cache HIT, P50 at c=1", "upstream json c1", "gw1 hit c1", "p50", "< 1 ms"
            )
        )
        lines.append(
            _latency_row(res, "cache HIT, P99 at c=1", "upstream json c1", "gw1 hit c1", "p99", "—")
        )
    for kind, label in (("json", ""), ("stream", ", stream")):
        for name in sorted(n for n in res.runs if n.startswith("gw") and n.endswith(f"{kind} c50")):
            workers = name.split()[0][2:]
            target = "≥ 2,000 per worker" if kind == "json" else "—"
            lines.append(
                _rps_row(
                    res,
                    f"throughput at c=50{label}, {workers} worker(s)",
                    f"upstream {kind} c50",
                    name,
                    target,
                )
            )
    lines += _ttfb_rows(res)
    lines += _reference_rows(res)
    lines += ["", _cpu_line(res), "", _rows_summary(res, partial=partial)]
    return "\n".join(lines)


def _pairwise(
    a: list[float], b: list[float], combine: Callable[[float, float], float]
) -> list[float]:
    return [combine(x, y) for x, y in zip(a, b, strict=False)]


def _figures(res: Results, run: str, value: Callable[[WrkResult], float]) -> list[float]:
    return [value(r) for r in res.runs.get(run, [])]


def _reference_rows(res: Results) -> list[str]:
    """The targets that are ratios to the bare hop measured in the same round."""
    if "bare json c50" not in res.runs:
        return []

    def rps(r: WrkResult) -> float:
        return r.rps

    def p50(r: WrkResult) -> float:
        return r.p50_ms

    cpu = res.cpu_us
    rows = [
        "",
        "Against the bare Python hop of the same round (uvicorn + httptools + aiohttp + "
        "orjson, no gateway logic):",
        "",
        "| figure | bare hop | gateway (1 worker) | ratio or difference | target |",
        "|---|---|---|---|---|",
    ]

    def ratio_row(label: str, bare: list[float], gw: list[float], fmt: str, target: str) -> str:
        ratios = _pairwise(gw, bare, lambda g, b: g / b if b else 0.0)
        return (
            f"| {label} | {_spread(bare, fmt)} | {_spread(gw, fmt)} | "
            f"{_spread(ratios, '.2f')}x | {target} |"
        )

    rows.append(
        ratio_row(
            "req/s at c=50",
            _figures(res, "bare json c50", rps),
            _figures(res, "gw1 json c50", rps),
            ",.0f",
            "≥ 0.5x",
        )
    )
    rows.append(
        ratio_row(
            "CPU µs per request at c=50",
            cpu.get("bare json c50", []),
            cpu.get("gw1 json c50", []),
            ",.0f",
            "≤ 2x",
        )
    )
    bare_p50 = _figures(res, "bare json c1", p50)
    gw_p50 = _figures(res, "gw1 json c1", p50)
    added = _pairwise(gw_p50, bare_p50, lambda g, b: g - b)
    rows.append(
        f"| P50 at c=1 | {_spread(bare_p50, '.3f')} ms | {_spread(gw_p50, '.3f')} ms | "
        f"+{_spread(added, '.3f')} ms | ≤ +0.25 ms |"
    )
    plain = _pairwise(gw_p50, _figures(res, "upstream json c1", p50), lambda g, u: g - u)
    streamed = _pairwise(
        _figures(res, "gw1 stream c1", p50),
        _figures(res, "upstream stream c1", p50),
        lambda g, u: g - u,
    )
    extra = _pairwise(streamed, plain, lambda s, p: s - p)
    rows.append(
        f"| added P50 at c=1: stream vs plain call | plain +{_spread(plain, '.3f')} ms | "
        f"stream +{_spread(streamed, '.3f')} ms | +{_spread(extra, '.3f')} ms | ≤ +0.2 ms |"
    )
    if "gw1 hit c1" in cpu:
        rows.append(
            ratio_row(
                "CPU µs per request at c=1: cache HIT vs miss (gateway)",
                cpu.get("gw1 json c1", []),
                cpu.get("gw1 hit c1", []),
                ",.0f",
                "≤ 0.5x",
            )
        )
    if "nginx json c50" in res.runs:
        rows.append(
            ratio_row(
                "req/s at c=50: nginx (first column) vs the gateway",
                _figures(res, "nginx json c50", rps),
                _figures(res, "gw1 json c50", rps),
                ",.0f",
                "—",
            )
        )
        rows.append(
            ratio_row(
                "req/s at c=50: nginx (first column) vs the bare hop",
                _figures(res, "nginx json c50", rps),
                _figures(res, "bare json c50", rps),
                ",.0f",
                "—",
            )
        )
    return rows


def _ttfb_rows(res: Results) -> list[str]:
    rows: list[str] = []
    for direct_runs, gateway_runs, label in (
        (res.ttfb_warm_direct, res.ttfb_warm_gateway, "upstream sends every event at once"),
        (res.ttfb_direct, res.ttfb_gateway, "upstream waits 20 ms between events"),
    ):
        if not direct_runs or not gateway_runs:
            continue
        direct = [t.ttfb_p50 for t in direct_runs]
        gateway = [t.ttfb_p50 for t in gateway_runs]
        delta = [g - d for d, g in zip(direct, gateway, strict=False)]
        count = len(direct_runs[0].ttfb_ms)
        rows.append(
            f"| stream TTFB, {label} (median of {count} sequential) | "
            f"{_spread(direct, '.3f')} ms | {_spread(gateway, '.3f')} ms | "
            f"+{_spread(delta, '.3f')} ms | ≤ +1 ms |"
        )
    if res.ttfb_direct and res.ttfb_gateway:
        totals_d = [t.total_p50 for t in res.ttfb_direct]
        totals_g = [t.total_p50 for t in res.ttfb_gateway]
        rows.append(
            f"| same paced probe, last byte (7 events, 20 ms apart) | "
            f"{_spread(totals_d, '.1f')} ms | {_spread(totals_g, '.1f')} ms | — | "
            f"first byte ≪ last byte: no buffering |"
        )
    return rows


def _cpu_line(res: Results) -> str:
    parts = [f"{name}: {_spread(values, ',.0f')} µs" for name, values in res.cpu_us.items()]
    return (
        "CPU per request (every process and thread of each target, the gateway's usage "
        "writer included): " + "; ".join(parts) + "."
    )


def _rows_summary(res: Results, *, partial: bool) -> str:
    if not res.rows:
        return "Usage rows: no gateway run yet."
    requests = sum(r["requests"] for r in res.rows)
    rows = sum(r["rows"] for r in res.rows)
    short = [r for r in res.rows if r["rows"] < r["requests"]]
    extra = max(r["rows"] - r["requests"] for r in res.rows)
    backlog = max(r["backlog_at_end"] for r in res.rows)
    statuses = res.rows[-1]["by_status"] if partial else res.final_by_status
    verdict = (
        "every request wrote its row"
        if not short
        else f"{len(short)} run(s) wrote FEWER rows than requests: "
        + ", ".join(f"{r['run']} {r['rows']}/{r['requests']}" for r in short)
    )
    return (
        f"Usage rows: wrk completed {requests:,} requests through the gateway; the runs "
        f"added {rows:,} rows ({verdict}; at most {extra} extra in a run — requests still in "
        f"flight when wrk stopped, at most one per connection). Largest backlog when a run "
        f"ended: {backlog:,} rows, written within seconds. Rows by status in the database: "
        f"{statuses}."
    )
