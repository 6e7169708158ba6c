"""The accounts foundation in a real browser: register, log in and out, reset
a forgotten password, role pages, form errors, small screens, keyboard.

Every page is checked with axe-core (see conftest: ``visit``/``follow``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from clinic.accounts.models import Role
from tests.conftest import PASSWORD
from tests.smtp import SmtpSink

Visit = Callable[..., Any]
Follow = Callable[..., Any]

PHONE_WIDTH = 375


def path(page: Page) -> str:
    return re.sub(r"^https?://[^/]+", "", page.url)


def field_error(page: Page, label: str, message: str) -> Locator:
    """Assert the field labelled ``label`` shows ``message`` tied to it."""
    control = page.get_by_label(label, exact=True)
    expect(control).to_have_attribute("aria-invalid", "true")
    described_by = (control.get_attribute("aria-describedby") or "").split()
    error_ids = [i for i in described_by if i.endswith("-error")]
    assert error_ids, f"{label}: aria-describedby={described_by} names no error"
    error = page.locator(f"#{error_ids[0]}")
    expect(error).to_be_visible()
    expect(error).to_contain_text(message)
    # What a screen reader announces on reaching the field.
    expect(control).to_have_accessible_description(re.compile(re.escape(message)))
    return control


def mailed_path(smtp_sink: SmtpSink, address: str, route: str) -> str:
    """The path of the link under ``route`` in the one mail to ``address``."""
    (mail,) = smtp_sink.to(address)
    body = mail.get_body(preferencelist=("plain",)).get_content()
    link = re.search(rf"http://\S+({route}\S+)", body)
    assert link, body
    return link.group(1)


ROBIN = {
    "Full name": "Robin Reader", "Email": "robin@example.com",
    "Phone number": "+44 7700 900456", "Date of birth": "1990-05-17",
    "Password": "a sturdy passphrase 7", "Repeat the password": "a sturdy passphrase 7",
}


def fill_registration(page: Page, answers: dict[str, str]) -> None:
    for label, value in answers.items():
        page.get_by_label(label, exact=True).fill(value)


def test_visitor_registers_logs_out_and_logs_in_again(
    page: Page, visit: Visit, follow: Follow
) -> None:
    visit(page, "/")
    follow(page.get_by_role("main").get_by_role("link", name="Create an account"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Create your account")

    fill_registration(page, ROBIN)
    follow(page.get_by_role("button", name="Create account"))

    assert path(page) == "/me"
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Robin Reader")
    expect(page.get_by_role("status")).to_contain_text("Your account is ready")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="My clinic")).to_be_visible()

    follow(nav.get_by_role("button", name="Log out"))
    assert path(page) == "/login"
    expect(page.get_by_role("status")).to_contain_text("You have logged out")
    visit(page, "/me")  # logged out: sent to the login page
    assert path(page).startswith("/login?next=")

    page.get_by_label("Email").fill("robin@example.com")
    page.get_by_label("Password", exact=True).fill("wrong password 123")
    follow(page.get_by_role("button", name="Log in"))
    expect(page.get_by_role("alert")).to_have_text(
        "That email and password do not match an account."
    )

    page.get_by_label("Password", exact=True).fill("a sturdy passphrase 7")
    follow(page.get_by_role("button", name="Log in"))
    assert path(page) == "/me"  # back where the login page was asked for


def test_a_new_client_confirms_their_address_from_the_email(
    page: Page, visit: Visit, follow: Follow, smtp_sink: SmtpSink
) -> None:
    visit(page, "/register")
    fill_registration(page, ROBIN)
    follow(page.get_by_role("button", name="Create account"))
    callout = page.get_by_role("region", name="Please confirm your email address")
    expect(callout).to_contain_text("robin@example.com")
    visit(page, "/booking/")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Confirm your email address first")

    visit(page, mailed_path(smtp_sink, "robin@example.com", "/email/confirm/"))
    follow(page.get_by_role("button", name="Confirm my email address"))
    expect(page.get_by_role("status")).to_contain_text(
        "Thank you: your email address is confirmed.")
    expect(page.get_by_role("region", name="Please confirm your email address")
           ).to_have_count(0)
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Robin Reader")


def test_forgotten_password_is_reset_through_the_emailed_link(
    page: Page,
    visit: Visit,
    follow: Follow,
    make_user: Callable[..., Any],
    smtp_sink: SmtpSink,
    log_in: Callable[..., None],
    live_server: str,
) -> None:
    user = make_user(email="sam@example.com", full_name="Sam Sample")
    visit(page, "/login")
    follow(page.get_by_role("link", name="Forgotten your password?"))
    page.get_by_label("Email").fill("sam@example.com")
    follow(page.get_by_role("button", name="Send the link"))
    assert path(page) == "/login"
    expect(page.get_by_role("status")).to_contain_text("we have emailed a link")

    [mail] = smtp_sink.to("sam@example.com")
    body = mail.get_body(preferencelist=("plain",)).get_content()
    [link] = re.findall(r"https?://\S+", body)
    # A link this browser can open: the server's own host and port.
    assert link.startswith(f"{live_server}/password/reset/"), link

    visit(page, link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a new password")
    page.get_by_label("New password").fill("a brand new passphrase 9")
    page.get_by_label("Repeat the password").fill("a brand new passphrase 9")
    follow(page.get_by_role("button", name="Save the new password"))
    assert path(page) == "/login"
    expect(page.get_by_role("status")).to_contain_text("Your password has been changed")

    # The link works once.
    visit(page, link)
    assert path(page) == "/password/forgot"
    expect(page.get_by_role("status")).to_contain_text("already been used")

    log_in(page, user, "a brand new passphrase 9")
    assert path(page) == "/me"


@pytest.mark.parametrize(
    ("role", "url"),
    [(Role.CLIENT, "/admin/"), (Role.THERAPIST, "/me")],
)
def test_wrong_role_sees_the_friendly_403_page(
    page: Page,
    visit: Visit,
    follow: Follow,
    make_user: Callable[..., Any],
    log_in: Callable[..., None],
    role: Role,
    url: str,
) -> None:
    log_in(page, make_user(role))
    visit(page, url, status=403)
    expect(page).to_have_title(re.compile("^You can't use this page"))
    expect(page.get_by_role("heading", level=1)).to_have_text("You can't use this page")
    expect(page.get_by_role("main")).to_contain_text("does not have access")
    expect(page.get_by_role("main")).not_to_contain_text("Traceback")
    # The page keeps the site's navigation and a way back.
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    follow(page.get_by_role("link", name="Go to the start page"))
    assert path(page) == ("/me" if role is Role.CLIENT else "/therapist")


def test_bad_registration_shows_errors_next_to_the_fields(
    page: Page, visit: Visit, follow: Follow
) -> None:
    visit(page, "/register")
    fill_registration(page, {
        "Full name": "Robin Reader", "Email": "not-an-email",
        "Phone number": "call me", "Date of birth": "2999-01-01",
        "Password": "short1", "Repeat the password": "something else 123"})
    follow(page.get_by_role("button", name="Create account"))

    assert path(page) == "/register"
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Please correct these answers:")
    expect(summary.get_by_role("link")).to_have_count(5)
    expect(page).to_have_title(re.compile(r"^Error: "))
    # Each summary entry leads to its field.
    summary.get_by_role("link", name=re.compile("^Phone number")).click()
    expect(page.get_by_label("Phone number")).to_be_focused()
    field_error(page, "Email", "valid email address")
    field_error(page, "Phone number", "digits, spaces")
    field_error(page, "Date of birth", "cannot be in the future")
    password = field_error(page, "Password", "at least 12 characters")
    # The hint stays in the description next to the error.
    expect(password).to_have_accessible_description(
        re.compile("At least 12 characters")
    )
    field_error(page, "Repeat the password", "not the same")

    name = page.get_by_label("Full name")
    expect(name).to_have_value("Robin Reader")  # what was typed is kept
    expect(name).not_to_have_attribute("aria-invalid", "true")


def test_login_errors_are_announced(page: Page, visit: Visit, follow: Follow) -> None:
    visit(page, "/login")
    follow(page.get_by_role("button", name="Log in"))
    expect(page.get_by_role("alert").get_by_role("link")).to_have_count(2)
    field_error(page, "Email", "Please enter your email address.")
    field_error(page, "Password", "Please enter your password.")


def scroll_width(page: Page) -> int:
    return page.evaluate("() => document.documentElement.scrollWidth")


def test_pages_fit_a_375px_phone_without_horizontal_scroll(
    phone_page: Page, visit: Visit, follow: Follow
) -> None:
    too_wide = {}
    for url in ["/", "/login", "/password/forgot", "/register"]:
        visit(phone_page, url)
        if scroll_width(phone_page) > PHONE_WIDTH:
            too_wide[url] = scroll_width(phone_page)

    # The registration form again, with an error under every field.
    phone_page.get_by_label("Email").fill("a" * 60 + "@example.com")
    follow(phone_page.get_by_role("button", name="Create account"))
    expect(phone_page.get_by_role("alert")).to_be_visible()
    if scroll_width(phone_page) > PHONE_WIDTH:
        too_wide["/register with errors"] = scroll_width(phone_page)

    assert not too_wide, f"wider than the {PHONE_WIDTH}px screen: {too_wide}"


def test_skip_link_is_the_first_tab_stop_and_moves_focus_to_main(
    page: Page, visit: Visit, axe_check: Callable[[Page], None]
) -> None:
    visit(page, "/register")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    # Visible once focused, inside the viewport.
    box = skip.bounding_box()
    assert box is not None and box["x"] >= 0 and box["y"] >= 0, box
    axe_check(page)  # the focused state, too

    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    assert path(page) == "/register#main"
    # The next Tab continues inside main, skipping the header links.
    page.keyboard.press("Tab")
    expect(page.get_by_label("Full name")).to_be_focused()


def test_a_client_updates_their_phone_and_moves_to_a_new_address(
    phone_page: Page, visit: Visit, follow: Follow, make_user: Callable[..., Any],
    log_in: Callable[..., None], smtp_sink: SmtpSink,
) -> None:
    page = phone_page  # the account page on a phone
    user = make_user(email="kit@example.com", full_name="Kit Keel")
    log_in(page, user)
    follow(page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Account"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH

    details = page.get_by_role("region", name="Your details")
    details.get_by_label("Phone number").fill("phone me")
    follow(details.get_by_role("button", name="Save my details"))
    field_error(page, "Phone number", "Please use digits")
    page.get_by_label("Phone number").fill("+44 7700 900321")
    follow(page.get_by_role("button", name="Save my details"))
    expect(page.get_by_role("status")).to_contain_text("Your details are saved.")
    expect(page.get_by_label("Phone number")).to_have_value("+44 7700 900321")

    address = page.get_by_role("region", name="Your email address")
    address.get_by_label("New email address").fill("kit.keel@example.com")
    address.get_by_label("Current password").fill(PASSWORD)
    follow(address.get_by_role("button", name="Email me a link"))
    expect(page.get_by_role("status")).to_contain_text(
        "We have emailed a link to kit.keel@example.com.")
    visit(page, mailed_path(smtp_sink, "kit.keel@example.com", "/email/change/"))
    follow(page.get_by_role("button", name="Use my new email address"))
    expect(page.get_by_role("status")).to_contain_text(
        "Your email address is now kit.keel@example.com.")


def test_a_client_closes_their_account_on_a_phone(
    phone_page: Page, visit: Visit, follow: Follow, make_user: Callable[..., Any],
    log_in: Callable[..., None], smtp_sink: SmtpSink,
) -> None:
    page = phone_page
    user = make_user(email="lee@example.com", full_name="Lee Leaving")
    log_in(page, user)
    visit(page, "/account")
    follow(page.get_by_role("region", name="Closing your account").get_by_role(
        "link", name="close your account"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Close your account")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    follow(page.get_by_role("button", name="Close my account"))
    field_error(page, "Current password", "Please enter your current password.")
    page.get_by_label("Current password").fill(PASSWORD)
    follow(page.get_by_role("button", name="Close my account"))
    expect(page.get_by_role("status")).to_contain_text("Your account is closed")
    assert path(page) == "/login"
    (mail,) = smtp_sink.to("lee@example.com")
    assert mail["Subject"] == "Your account is closed"
    page.get_by_label("Email").fill("lee@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    follow(page.get_by_role("button", name="Log in"))
    expect(page.get_by_role("alert")).to_have_text(
        "Your account is closed. To open it again, please call the clinic on "
        "020 7946 0000.")
