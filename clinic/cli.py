"""``flask clinic ...`` commands. Each command commits its own work."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from clinic import migrate
from clinic.accounts import services as accounts
from clinic.accounts.models import Role
from clinic.db import new_session, utcnow
from clinic.forms import PasswordStrength
from clinic.mail.sender import backend_for, deliver_due

clinic_cli = AppGroup("clinic", help="Clinic administration commands.")


@clinic_cli.command("migrate")
def migrate_command() -> None:
    """Apply every Alembic migration to the configured database."""
    migrate.upgrade(current_app.config["DATABASE_URL"])
    click.echo("Database is up to date.")


def _check_password(_ctx: object, _param: object, value: str) -> str:
    if len(value) < PasswordStrength.MIN or value.isdigit() or value.isalpha():
        raise click.BadParameter(
            f"use at least {PasswordStrength.MIN} characters, mixing letters with "
            "numbers or symbols"
        )
    return value


@clinic_cli.command("create-admin")
@click.option("--email", prompt=True)
@click.option("--name", "full_name", prompt="Full name")
@click.password_option(callback=_check_password)
def create_admin(email: str, full_name: str, password: str) -> None:
    """Create an admin account (staff are never self-registered)."""
    with new_session() as db:
        try:
            accounts.create_user(
                db,
                email=email,
                password=password,
                full_name=full_name,
                role=Role.ADMIN,
                hash_profile=current_app.config["PASSWORD_HASH_PROFILE"],
                email_verified_at=utcnow(),  # the operator vouches for it
            )
        except accounts.EmailTaken:
            raise click.ClickException(f"{email} already has an account.") from None
        db.commit()
    click.echo(f"Admin {email} created.")


@clinic_cli.command("seed-demo")
def seed_demo_command() -> None:
    """Add the demo clinic (idempotent). Refused in production."""
    from clinic.demo import DEMO_PASSWORD, seed_demo

    if current_app.config["ENV"] == "production":
        raise click.ClickException("The demo clinic is never seeded in production.")
    with new_session() as db:
        logins = seed_demo(db, current_app.config)
        db.commit()
    click.echo(f"Demo logins (password for all: {DEMO_PASSWORD}):")
    for role, email in logins:
        click.echo(f"  {role:<10} {email}")


@clinic_cli.command("send-mail")
def send_mail_command() -> None:
    """Deliver due outbox mail (run every minute from cron)."""
    config = current_app.config
    sent, failed = deliver_due(
        current_app.extensions["clinic.sessionmaker"], backend_for(config), config
    )
    click.echo(f"sent {sent}, failed {failed}")


def _add_feature_commands() -> None:
    from clinic.booking.cli import commands as booking_commands
    from clinic.intake.cli import commands as intake_commands

    for command in (*intake_commands, *booking_commands):
        clinic_cli.add_command(command)


_add_feature_commands()
