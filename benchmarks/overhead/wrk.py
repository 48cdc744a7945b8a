"""Run ``wrk`` with a Lua script (POST body, headers) and read back its percentiles.

The script's ``done`` hook prints one JSON line, so nothing depends on wrk's human
output. Latencies are in microseconds, measured by wrk per request: time to the last
byte of the response (for a stream, the whole stream).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

__all__ = ["WrkResult", "ensure_wrk", "run_wrk", "write_script"]

_MARK = "AIGW_RESULT "
_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "%s{\\"requests\\":%d,\\"duration_us\\":%d,\\"p50_us\\":%d,\\"p90_us\\":%d,"
    .. "\\"p99_us\\":%d,\\"mean_us\\":%.1f,\\"max_us\\":%d,\\"status_errors\\":%d,"
    .. "\\"socket_errors\\":%d}\\n",
    "MARK", summary.requests, summary.duration, latency:percentile(50),
    latency:percentile(90), latency:percentile(99), latency.mean, latency.max,
    e.status, e.connect + e.read + e.write + e.timeout))
end
""".replace("MARK", _MARK)


@dataclass(frozen=True)
class WrkResult:
    requests: int
    duration_us: int
    p50_us: int
    p90_us: int
    p99_us: int
    mean_us: float
    max_us: int
    status_errors: int
    socket_errors: int

    @property
    def rps(self) -> float:
        return self.requests / (self.duration_us / 1e6)

    @property
    def p50_ms(self) -> float:
        return self.p50_us / 1000

    @property
    def p99_ms(self) -> float:
        return self.p99_us / 1000


def ensure_wrk() -> str:
    """The wrk binary, installed with apt-get when missing (Debian/Ubuntu, as root)."""
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is missing: installing it with apt-get", flush=True)
    subprocess.run(["apt-get", "install", "-y", "wrk"], check=False, capture_output=True)
    found = shutil.which("wrk")
    if found is None:
        subprocess.run(["apt-get", "update"], check=True, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, capture_output=True)
        found = shutil.which("wrk")
    if found is None:
        raise RuntimeError("wrk is not installed and apt-get could not install it")
    return found


def write_script(path: Path, body: bytes, headers: dict[str, str]) -> Path:
    lines = ['wrk.method = "POST"', f"wrk.body = [==[{body.decode()}]==]"]
    lines += [f'wrk.headers["{name}"] = "{value}"' for name, value in headers.items()]
    path.write_text("\n".join(lines) + "\n" + _DONE)
    return path


def run_wrk(wrk: str, url: str, script: Path, *, connections: int, seconds: float) -> WrkResult:
    threads = 1 if connections == 1 else 2
    command = [
        wrk,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        url + "/v1/chat/completions",
    ]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    for line in done.stdout.splitlines():
        if line.startswith(_MARK):
            return WrkResult(**json.loads(line[len(_MARK) :]))
    raise RuntimeError(f"wrk printed no result:\n{done.stdout}\n{done.stderr}")
