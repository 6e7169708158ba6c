"""``flask clinic rules`` and ``flask clinic screen``.

``screen`` is how the screening is judged from outside: it prints exactly the
engine's §1.3 result (``ScreeningResult.to_dict``) for each intake, with the
clinic's settings filling the message placeholders.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from clinic.db import new_session
from clinic.intake import screening
from clinic.intake.services import run_screening
from clinic.settings.services import Settings, load_settings

# Exit status for unusable input (click uses 2 for usage errors too).
BAD_INPUT = 2


@click.command("rules")
@with_appcontext
def rules_command() -> None:
    """Print the screening rule table (ruleset §4) for clinical review."""
    click.echo(format_table(screening.rules_table()))


def format_table(rows: Sequence[screening.RuleRow]) -> str:
    """Rows as aligned text columns under a header; the last column unpadded."""
    header = ("id", "outcome", "excluded", "after clearance", "citation")
    table = [header, *((r.id, r.outcome, r.excluded, r.after_clearance, r.citation)
                       for r in rows)]
    widths = [max(len(row[i]) for row in table) for i in range(len(header) - 1)]
    lines = []
    for n, row in enumerate(table):
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in [*widths, len(header[-1])]))
    return "\n".join(lines)


@click.command("screen")
@click.argument("file", metavar="FILE")
@with_appcontext
def screen_command(file: str) -> None:
    """Screen the answers in FILE (one JSON object or a list; - reads stdin)
    and print each §1.3 result as JSON."""
    data = _load(file)
    intakes = data if isinstance(data, list) else [data]
    for n, item in enumerate(intakes, start=1):
        if not isinstance(item, dict):
            where = f"item {n} of the list" if isinstance(data, list) else "the input"
            _fail(f"{file}: {where} is a JSON {_json_type(item)}, not an object "
                  "of intake answers.")
    clinic = _settings()
    results = [run_screening(item, clinic).to_dict() for item in intakes]
    output = results if isinstance(data, list) else results[0]
    click.echo(json.dumps(output, indent=2))


def _load(file: str) -> Any:
    try:
        if file == "-":
            raw = sys.stdin.buffer.read()
        else:
            with open(file, "rb") as handle:
                raw = handle.read()
    except OSError as exc:
        _fail(f"{file}: cannot read the file ({exc.strerror or exc}).")
    try:
        return json.loads(raw)
    except UnicodeDecodeError:
        _fail(f"{file}: not UTF-8 text, so not JSON.")
    except json.JSONDecodeError as exc:
        _fail(f"{file}: not valid JSON ({exc.msg} at line {exc.lineno} "
              f"column {exc.colno}).")


def _json_type(value: Any) -> str:
    names = {list: "array", str: "string", bool: "boolean", int: "number",
             float: "number", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _settings() -> Settings:
    """The clinic's settings; the configured defaults when the database has
    no settings table yet (not migrated), so screening works anywhere."""
    try:
        with new_session(write=False) as db:
            return load_settings(db, current_app.config)
    except SQLAlchemyError:
        return load_settings(_NoStoredSettings(), current_app.config)  # type: ignore[arg-type]


class _NoStoredSettings:
    """Stands in for a session with no settings row (load_settings only asks
    ``get``); the configuration's values then apply."""

    def get(self, *_args: Any) -> None:
        return None


def _fail(message: str) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    sys.exit(BAD_INPUT)


commands: list[click.Command] = [rules_command, screen_command]
