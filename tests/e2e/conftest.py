"""End-to-end harness: the real app in a real Chromium, driven by Playwright.

Every test under ``tests/e2e`` is marked ``e2e`` automatically. Chromium is
Debian's (``apt-get install chromium``); when it is missing the e2e tests
fail with that instruction (they are never skipped).

Fixtures
--------
``live_server``
    The test's ``app`` (CSRF **enabled**, no ``SERVER_NAME``, so links built
    with ``url_for(..., _external=True)``, e.g. in the reset email, point at
    this server) served by werkzeug on 127.0.0.1 in a thread. Its value is the
    base URL, e.g. ``"http://127.0.0.1:41234"``.
``page`` / ``phone_page``
    A new browser context and page per test: 1280x800, or 375x740 for
    ``phone_page``. The context's ``base_url`` is the live server, so
    relative paths work (``page.goto("/login")``). Default timeout 10 s.
``visit(page, path, status=200)``
    Go to ``path`` (relative or absolute), check the HTTP status of the page,
    run the accessibility check, return the response.
``follow(locator, status=200)``
    Click a link or submit button that loads a new page, wait for that page's
    ``load`` event, check the HTTP status of the page it lands on (after any
    redirects), run the accessibility check. Returns that response (``None``
    if the browser loaded the page without a request).
``axe_check(page)``
    Run axe-core on the page's current document. Use it after changing a page
    without loading a new one (a disclosure opened, script-rendered content),
    or after loading one some other way than ``visit``/``follow``.
``log_in(page, user_or_email, password=PASSWORD)``
    Log in through the login form (each page checked); lands on the home page.

Also: ``browser`` (session-scoped Chromium), ``chromium_path``, and
``make_user``/``smtp_sink``/``db`` from ``tests/conftest.py`` as usual
(``smtp_sink.to(email)`` lists the messages delivered to ``email``).

Accessibility checks are automatic and enforced
-----------------------------------------------
``axe_check`` loads the vendored axe-core (``vendor/axe.min.js``, axe-core
4.14.1 from npm, MPL-2.0) into the page as a same-origin ``<script src>``:
the live server answers ``/__e2e__/axe.min.js`` itself (a WSGI wrapper around
the app; the app is unchanged), so the app's real Content-Security-Policy
(``script-src 'self'``, no inline script) stays in force during every test,
no ``bypass_csp``, and the browser caches the 650 kB script between pages.
Rules tagged wcag2a, wcag2aa, wcag21a, wcag21aa and best-practice run; a
violation with impact "serious" or "critical" fails the test with a readable
list (rule, impact, help URL, elements and why). Moderate and minor findings
are printed (pytest shows them for a failing test, or with ``-rP``).

Every document the page loads is recorded (``load`` event). At teardown the
test fails if any loaded page was never checked, so navigate with ``visit``
and ``follow`` (or call ``axe_check`` after whatever loaded the page) and
nothing slips through unchecked.

The page also fails the test at teardown on browser-side problems: an
uncaught script error, a console error (this is how a CSP violation shows
up, e.g. an inline style) or a stylesheet/script/image answered with 4xx/5xx.

On failure a full-page screenshot goes to ``tests/e2e/artifacts/``
(gitignored).

Example::

    def test_something(page, visit, follow, make_user, log_in):
        user = make_user()
        log_in(page, user)
        visit(page, "/admin/", status=403)
        follow(page.get_by_role("link", name="Go to the start page"))
"""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Locator,
    Page,
    Playwright,
    Response,
    sync_playwright,
)
from playwright.sync_api import Error as PlaywrightError
from werkzeug.serving import make_server
from werkzeug.wrappers import Response as WerkzeugResponse

from clinic.accounts.models import User
from tests.conftest import PASSWORD

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

HERE = Path(__file__).resolve().parent
# axe-core 4.14.1 (npm "axe-core", MPL-2.0; vendor/axe-core.LICENSE.txt).
# Upgrade: cd /tmp && npm pack axe-core@4 && tar xzf axe-core-*.tgz, then copy
# package/axe.min.js and package/LICENSE (+ LICENSE-3RD-PARTY.txt) here.
AXE_PATH = HERE / "vendor" / "axe.min.js"
ARTIFACTS = HERE / "artifacts"

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
FAILING_IMPACTS = {"serious", "critical"}

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 740}

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


# --- collection and reporting --------------------------------------------


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # This hook sees every collected test, not only ours: mark those below here.
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    # Keep each phase's report so the page fixture knows, at teardown, whether
    # the test failed (and then saves a screenshot).
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


def _failed(node: pytest.Item) -> bool:
    reports = node.stash.get(_REPORTS, {})
    return any(r.failed for r in reports.values())


# --- browser -------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium_path() -> str:
    # No skip: `make test` is every test, and a browser test that does not
    # run proves nothing. The failure says how to get the browser.
    path = shutil.which("chromium")
    if path is None:
        pytest.fail("chromium not installed: apt-get install chromium", pytrace=False)
    return path


@pytest.fixture(autouse=True)
def _require_chromium(chromium_path: str) -> None:
    """Every e2e test, browser or not, fails alike without chromium."""


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    driver = sync_playwright().start()
    yield driver
    driver.stop()


@pytest.fixture(scope="session")
def browser(playwright_driver: Playwright, chromium_path: str) -> Iterator[Browser]:
    chromium = playwright_driver.chromium.launch(
        executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
    )
    yield chromium
    chromium.close()


# --- the app -------------------------------------------------------------


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """The shared test config, with CSRF on (the browser sends real forms)
    and no SERVER_NAME: the app then answers to, and builds external links
    for, whatever host the browser used (127.0.0.1:<port>)."""
    config = {**app_config, "WTF_CSRF_ENABLED": True}
    config.pop("SERVER_NAME", None)
    return config


AXE_URL = "/__e2e__/axe.min.js"


def _with_axe(app: Flask) -> WSGIApplication:
    """The app, plus axe-core at AXE_URL: a same-origin script the app's CSP
    allows, kept in the browser's cache between pages (faster than sending
    650 kB through Playwright for every check)."""
    body = AXE_PATH.read_bytes()

    def wsgi(environ: WSGIEnvironment, start_response: StartResponse) -> Any:
        if environ.get("PATH_INFO") == AXE_URL:
            script = WerkzeugResponse(
                body,
                content_type="text/javascript; charset=utf-8",
                headers={"Cache-Control": "private, max-age=3600"},
            )
            return script(environ, start_response)
        return app(environ, start_response)

    return wsgi


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, _with_axe(app), threaded=True)
    # A short poll interval: shutdown() waits for the next poll (0.5 s default).
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.02},
        name="e2e-live-server",
        daemon=True,
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


# --- pages and their checks ----------------------------------------------


@dataclass
class _Document:
    url: str
    checked: bool = False


@dataclass
class PageLog:
    """What one page did: documents loaded, and browser-side problems."""

    documents: list[_Document] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    last_document: Response | None = None


_LOGS: dict[int, PageLog] = {}


def _log(page: Page) -> PageLog:
    return _LOGS.setdefault(id(page), PageLog())


def _watch(page: Page) -> None:
    log = _log(page)

    def on_load(loaded: Page) -> None:
        if not loaded.url.startswith("about:"):
            log.documents.append(_Document(loaded.url))

    def on_console(message: ConsoleMessage) -> None:
        # The status of a page itself (e.g. a deliberate 403) is logged as
        # "Failed to load resource"; failed subresources are caught below.
        if message.type == "error" and not message.text.startswith(
            "Failed to load resource"
        ):
            log.problems.append(f"console error on {page.url}: {message.text}")

    def on_response(response: Response) -> None:
        if (
            response.request.resource_type == "document"
            and response.frame == page.main_frame
        ):
            log.last_document = response
        elif response.status >= 400:
            log.problems.append(
                f"{response.request.resource_type} {response.url} "
                f"answered {response.status}"
            )

    page.on("load", on_load)
    page.on("console", on_console)
    page.on("pageerror", lambda error: log.problems.append(f"script error: {error}"))
    page.on("response", on_response)


def _new_page(
    browser: Browser, base_url: str, viewport: dict[str, int], request: Any
) -> Iterator[Page]:
    context = browser.new_context(
        base_url=base_url,
        viewport=viewport,  # type: ignore[arg-type]
        locale="en-GB",
        timezone_id="Europe/London",
        service_workers="block",
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.set_default_timeout(10_000)
    _watch(page)
    try:
        yield page
        if _failed(request.node):
            _screenshot(page, request.node, viewport)
        else:
            _check_log(page)
    finally:
        _LOGS.pop(id(page), None)
        context.close()


def _check_log(page: Page) -> None:
    log = _log(page)
    unchecked = [d.url for d in log.documents if not d.checked]
    lines = []
    if unchecked:
        lines.append(
            "pages loaded but never axe-checked (use visit/follow/axe_check): "
            + ", ".join(unchecked)
        )
    lines.extend(log.problems)
    if lines:
        pytest.fail("\n".join(lines), pytrace=False)


def _screenshot(page: Page, node: pytest.Item, viewport: dict[str, int]) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", node.nodeid.split("::", 1)[-1])
    target = ARTIFACTS / f"{name}-{viewport['width']}.png"
    try:
        page.screenshot(path=str(target), full_page=True)
    except Exception as exc:  # the page may be gone; never mask the failure
        print(f"no screenshot: {exc}")
    else:
        print(f"screenshot: {target}")


@pytest.fixture
def page(
    browser: Browser, live_server: str, request: pytest.FixtureRequest
) -> Iterator[Page]:
    yield from _new_page(browser, live_server, DESKTOP, request)


@pytest.fixture
def phone_page(
    browser: Browser, live_server: str, request: pytest.FixtureRequest
) -> Iterator[Page]:
    yield from _new_page(browser, live_server, PHONE, request)


_AXE_SOURCE: str | None = None

_RUN_AXE = """async (tags) => {
  const results = await axe.run(document, {
    runOnly: {type: "tag", values: tags},
    resultTypes: ["violations"],
  });
  return results.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map(n => ({
      target: n.target.join(" "), summary: n.failureSummary || "",
    })),
  }));
}"""


def _axe_source() -> str:
    global _AXE_SOURCE
    if _AXE_SOURCE is None:
        _AXE_SOURCE = AXE_PATH.read_text(encoding="utf-8")
    return _AXE_SOURCE


def _format(violations: list[dict[str, Any]], url: str) -> str:
    lines = [f"accessibility violations on {url}:"]
    for v in violations:
        lines.append(f"- [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:10]:
            # "Fix any of the following:\n  reason\n  reason" on one line.
            reasons = [line.strip() for line in node["summary"].splitlines()]
            summary = re.sub(r":; ", ": ", "; ".join(r for r in reasons if r))
            lines.append(f"    at {node['target']}: {summary}")
    return "\n".join(lines)


def run_axe(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations for the page's current document (all impacts)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        try:
            page.add_script_tag(url=AXE_URL)
        except PlaywrightError:
            # Not on the live server (or a page's CSP refused the script):
            # page.evaluate runs through the DevTools protocol, which no CSP
            # blocks.
            page.evaluate(_axe_source())
    return page.evaluate(_RUN_AXE, AXE_TAGS)


def check_accessibility(page: Page) -> None:
    page.wait_for_load_state("load")
    violations = run_axe(page)
    log = _log(page)
    # The page's own load event has been dispatched by now (evaluate above
    # is a round trip after it): mark the newest document checked.
    if log.documents:
        log.documents[-1].checked = True
    failing = [v for v in violations if v["impact"] in FAILING_IMPACTS]
    minor = [v for v in violations if v["impact"] not in FAILING_IMPACTS]
    if minor:
        note = _format(minor, page.url).replace("violations", "notes (not failing)")
        log.notes.append(note)
        print(note)
    if failing:
        pytest.fail(_format(failing, page.url), pytrace=False)


@pytest.fixture
def axe_check() -> Callable[[Page], None]:
    return check_accessibility


@pytest.fixture
def visit() -> Callable[..., Response | None]:
    def go(page: Page, url: str, status: int = 200) -> Response | None:
        response = page.goto(url)
        assert response is not None, f"no response for {url}"
        assert response.status == status, (
            f"{url} answered {response.status}, expected {status}"
        )
        check_accessibility(page)
        return response

    return go


@pytest.fixture
def follow() -> Callable[..., Response | None]:
    def click(locator: Locator, status: int = 200) -> Response | None:
        target = locator.page
        log = _log(target)
        log.last_document = None
        with target.expect_event("load"):
            locator.click()
        response = log.last_document
        if response is not None:
            assert response.status == status, (
                f"{response.url} answered {response.status}, expected {status}"
            )
        check_accessibility(target)
        return response

    return click


@pytest.fixture
def log_in(
    visit: Callable[..., Response | None], follow: Callable[[Locator], Any]
) -> Callable[..., None]:
    def do_log_in(page: Page, user: User | str, password: str = PASSWORD) -> None:
        email = user if isinstance(user, str) else user.email
        visit(page, "/login")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password", exact=True).fill(password)
        follow(page.get_by_role("button", name="Log in"))
        assert urlsplit(page.url).path != "/login", page.locator("main").inner_text()

    return do_log_in
