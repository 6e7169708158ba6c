"""``flask clinic rules`` and ``flask clinic screen``."""

from __future__ import annotations

import click

commands: list[click.Command] = []
