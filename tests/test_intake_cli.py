"""``flask clinic rules`` and ``flask clinic screen`` (the evaluation's way in)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy.orm import Session

from clinic import create_app
from clinic.intake import screening
from clinic.settings.services import save_settings
from tests.test_intake_views import CLEAR, REFER, URGENT

URGENT_CARE = "NHS 111 or an urgent GP appointment"


def run(app: Flask, *args: str, stdin: str | bytes | None = None) -> Result:
    return app.test_cli_runner().invoke(args=["clinic", *args], input=stdin)


def engine(answers: dict[str, Any], emergency: str = "999") -> dict[str, Any]:
    return screening.screen(answers, emergency_number=emergency,
                            urgent_care=URGENT_CARE).to_dict()


def write(tmp_path: Path, data: Any) -> str:
    target = tmp_path / "answers.json"
    target.write_text(json.dumps(data), encoding="utf-8")
    return str(target)


def test_rules_prints_an_aligned_table_of_all_29_rules(app: Flask) -> None:
    result = run(app, "rules")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["id", "outcome", "excluded", "after", "clearance",
                                "citation"]
    assert set(lines[1]) == {"-", " "}
    rows = lines[2:]
    assert [row.split()[0] for row in rows] == list(screening.RULE_IDS)
    assert len(rows) == 29
    # Every column starts at the same offset on every line.
    outcome_at = lines[0].index("outcome")
    assert all(row[outcome_at:].split()[0] in ("urgent", "refer", "caution")
               for row in rows)
    ces = next(row for row in rows if row.startswith("U-CES "))
    assert ces.split()[1:4] == ["urgent", "ALL", "NO_DEEP"]
    assert ces.endswith('[CKS-SCI] "interpreting red flags".')
    bleeding = next(row for row in rows if row.startswith("C-BLEEDING-RISK "))
    assert bleeding.split()[1:4] == ["caution", "NO_DEEP", "-"]


def test_screen_prints_the_engine_result_for_the_spec_example(
    app: Flask, tmp_path: Path
) -> None:
    result = run(app, "screen", write(tmp_path, CLEAR))
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed == engine(CLEAR)
    assert list(printed) == list(screening.RESULT_KEYS)  # §1.3 order
    assert (printed["outcome"], printed["top_technique"]) == ("clear", "swedish")
    assert result.stdout == json.dumps(engine(CLEAR), indent=2) + "\n"
    assert result.stderr == ""


def test_screen_prints_a_list_for_a_list(app: Flask, tmp_path: Path) -> None:
    result = run(app, "screen", write(tmp_path, [CLEAR, URGENT, REFER]))
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed == [engine(CLEAR), engine(URGENT), engine(REFER)]
    assert [r["outcome"] for r in printed] == ["clear", "urgent", "refer"]
    assert json.loads(run(app, "screen", write(tmp_path, [])).stdout) == []


def test_screen_reads_stdin(app: Flask) -> None:
    result = run(app, "screen", "-", stdin=json.dumps(URGENT))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == engine(URGENT)


def test_screen_uses_the_clinics_emergency_number(
    app: Flask, db: Session
) -> None:
    save_settings(db, emergency_number="112")
    db.commit()
    printed = json.loads(run(app, "screen", "-", stdin=json.dumps(URGENT)).stdout)
    assert printed == engine(URGENT, emergency="112")
    assert "call 112" in printed["client_messages"][0]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"age_years": 35,', "not valid JSON (Expecting property name enclosed in "
                              "double quotes at line 1 column 18)."),
        ("", "not valid JSON (Expecting value at line 1 column 1)."),
        ('"just a string"', "the input is a JSON string, not an object of intake "
                            "answers."),
        ("42", "the input is a JSON number, not an object of intake answers."),
        ("null", "the input is a JSON null, not an object of intake answers."),
        ('[{"age_years": 35}, [1, 2]]', "item 2 of the list is a JSON array, not an "
                                        "object of intake answers."),
        (b'{"pregnancy": "\x80"}', "not UTF-8 text, so not JSON."),
    ],
)
def test_screen_refuses_bad_input_with_one_line_and_status_2(
    app: Flask, content: str | bytes, message: str
) -> None:
    result = run(app, "screen", "-", stdin=content)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == f"Error: -: {message}\n"


def test_screen_refuses_an_unreadable_file(app: Flask, tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    result = run(app, "screen", str(missing))
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        f"Error: {missing}: cannot read the file (No such file or directory).\n"
    )
    folder = run(app, "screen", str(tmp_path))
    assert folder.exit_code == 2
    assert folder.stderr == (
        f"Error: {tmp_path}: cannot read the file (Is a directory).\n"
    )


def test_screen_works_without_a_migrated_database(tmp_path: Path) -> None:
    bare = create_app({"ENV": "test",
                       "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
                       "EMERGENCY_NUMBER": "911"})
    try:
        result = run(bare, "screen", "-", stdin=json.dumps(URGENT))
    finally:
        bare.extensions["clinic.engine"].dispose()
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == engine(URGENT, emergency="911")
