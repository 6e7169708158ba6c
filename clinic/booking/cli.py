"""``flask clinic send-reminders``."""

from __future__ import annotations

import click

commands: list[click.Command] = []
