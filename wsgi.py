"""WSGI entry point: ``gunicorn wsgi:app``."""

from clinic import create_app

app = create_app()
