"""The real app as the benchmark serves it: ``tests.bench.clinic_app:make_app()``.

Production configuration (``CLINIC_ENV=production``, a random ``SECRET_KEY``
and ``DATABASE_URL`` from the environment, CSRF on), with three overrides a
plain-http benchmark needs, none of them on the booking path:

* ``SESSION_COOKIE_SECURE``/``REMEMBER_COOKIE_SECURE`` off: Python's http
  clients never send Secure cookies over http://127.0.0.1 (pitfalls.md).
* ``PASSWORD_HASH_PROFILE = "fast"``: bench users are hashed cheaply; with the
  strong profile each login would re-hash (and write) the password. Login is
  not timed; the booking POST never hashes.
* ``PREFERRED_URL_SCHEME = "http"``.

Mail stays in the outbox (``MAIL_SEND_ON_COMMIT=false`` in the environment):
delivering it after the commit would time the mail server, not the app.
"""

from __future__ import annotations

from flask import Flask

from clinic import create_app

OVERRIDES = {
    "SESSION_COOKIE_SECURE": False,
    "REMEMBER_COOKIE_SECURE": False,
    "PASSWORD_HASH_PROFILE": "fast",
    "PREFERRED_URL_SCHEME": "http",
}


def make_app() -> Flask:
    """Gunicorn calls this factory; importing the module builds nothing."""
    return create_app(dict(OVERRIDES))
