"""``ai-gateway import-legacy-usage FILE``: historical usage of the legacy path, once.

Thin over :mod:`ai_gateway.metering.legacy_import` (the column mapping lives there and in
``docs/guides/rollout.md``); this module adds the progress bar and the summary.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ai_gateway.cli._common import CLI_ACTOR, database, emit, json_option
from ai_gateway.metering.legacy_import import COLUMNS_HELP, LegacyImporter, read_source_rows
from ai_gateway.storage.audit import record_audit

__all__ = ["register"]

_SHOWN_REJECTIONS = 50


def _count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for line in handle if line.strip())


@click.command(
    "import-legacy-usage",
    help="Import historical usage rows (CSV with a header, or JSON lines) into "
    "gateway_usage_logs with route 'legacy'. Running it again adds nothing; imported rows "
    "do not move current budgets; a bad row is reported with its line number and skipped. "
    + COLUMNS_HELP,
)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path))
@json_option
def import_legacy_usage(file: Path, as_json: bool) -> None:
    importer = LegacyImporter(database())
    total = _count_lines(file)
    with click.progressbar(length=total, label="importing", file=sys.stderr, show_pos=True) as bar:
        summary = importer.run(read_source_rows(file), progress=bar.update)
    with database().write() as session:
        record_audit(
            session,
            actor=CLI_ACTOR,
            action="usage.import_legacy",
            target=file.name,
            details={
                "imported": summary.imported,
                "skipped": summary.skipped,
                "rejected": len(summary.rejected),
            },
        )
    result = {
        "imported": summary.imported,
        "skipped": summary.skipped,
        "rejected": len(summary.rejected),
        "rejections": [{"line": r.line, "reason": r.reason} for r in summary.rejected],
    }
    if as_json:
        emit(result, as_json=True)
        return
    click.echo(
        f"{summary.imported} imported, {summary.skipped} skipped (already there), "
        f"{len(summary.rejected)} rejected"
    )
    for rejected in summary.rejected[:_SHOWN_REJECTIONS]:
        click.echo(f"  line {rejected.line}: {rejected.reason}")
    if len(summary.rejected) > _SHOWN_REJECTIONS:
        click.echo(f"  ... and {len(summary.rejected) - _SHOWN_REJECTIONS} more (see --json)")


def register(cli: click.Group) -> None:
    cli.add_command(import_legacy_usage)
