"""Friendly error pages: no stack traces, the same layout as the rest."""

from __future__ import annotations

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

MESSAGES = {
    400: (
        "Something was wrong with that request",
        "Please go back, reload the page and try again.",
    ),
    403: ("You can't use this page", "Your account does not have access to this page."),
    404: (
        "Page not found",
        "We couldn't find that page. It may have moved, or the link is wrong.",
    ),
    405: ("That didn't work", "This page can't be used that way."),
    413: ("That was too large", "Please send less text or a smaller file."),
    429: ("Too many requests", "Please wait a moment and try again."),
    500: (
        "Something went wrong on our side",
        "We have been told about it. Please try again in a few minutes, or "
        "call the clinic.",
    ),
}


def render_error(code: int, detail: str | None = None) -> tuple[str, int]:
    title, message = MESSAGES.get(code, MESSAGES[500])
    return (
        render_template(
            "errors/error.html", code=code, title=title, message=detail or message
        ),
        code,
    )


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(_error: CSRFError) -> tuple[str, int]:
        return render_error(
            400,
            "Your form expired or was sent from another site. Please reload "
            "the page and try again.",
        )

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> tuple[str, int] | HTTPException:
        if error.code is None or error.code < 400:
            return error
        return render_error(error.code)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> tuple[str, int]:
        app.logger.exception("Unhandled error", exc_info=error)
        return render_error(500)
