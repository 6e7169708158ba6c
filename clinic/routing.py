"""The URL converter for row ids, shared by every blueprint."""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter, Map

from clinic.db import MAX_ID


def numbers_up_to(limit: int) -> str:
    """A regular expression matching exactly the numbers 1 to ``limit``,
    written in ASCII digits without leading zeros: those shorter than
    ``limit``, then those as long that stay below it digit by digit, then
    ``limit`` itself."""
    digits = str(limit)
    shorter = [rf"[1-9][0-9]{{0,{len(digits) - 2}}}"] if len(digits) > 1 else []
    as_long = []
    for place, digit in enumerate(digits):
        lowest = 1 if place == 0 else 0
        if int(digit) > lowest:
            below, rest = f"[{lowest}-{int(digit) - 1}]", len(digits) - place - 1
            as_long.append(rf"{digits[:place]}{below}[0-9]{{{rest}}}")
    return "(?:" + "|".join([*shorter, *as_long, digits]) + ")"


class IdConverter(IntegerConverter):
    """``<id:name>``: a number some row could have (1 to ``MAX_ID``).

    The bound is in the pattern, not only in the conversion: any other
    number matches no route, a 404 before any query is sent with it.
    (Werkzeug answers a conversion refused after the path matched with 405
    when the same path has a rule for another method, as GET and POST
    pages do.)
    """

    regex = numbers_up_to(MAX_ID)

    def __init__(self, url_map: Map) -> None:
        super().__init__(url_map, min=1, max=MAX_ID)


def init_app(app: Flask) -> None:
    """Before the blueprints: their rules are built with the converters
    known when they are registered."""
    app.url_map.converters["id"] = IdConverter
