"""Fixtures for driving the chat widget in headless Chromium against the real app."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from servers import serve_app

from faqbot import create_app

ARTIFACTS = Path(__file__).parent / "artifacts"


def chromium_path() -> str | None:
    """Return Debian's Chromium, or the one FAQBOT_CHROMIUM names."""
    for candidate in (os.environ.get("FAQBOT_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


@pytest.fixture(scope="session")
def clinic_pages() -> dict[str, str]:
    """HTML that the pretend clinic website serves, by path; tests add their own pages (html or (html, headers))."""
    return {}


@pytest.fixture(scope="session")
def clinic_site(clinic_pages):
    """Another origin on this machine: a clinic's website embedding the widget from the app's origin."""
    def site(environ, start_response):
        body = clinic_pages.get(environ["PATH_INFO"])
        headers = [("Content-Type", "text/html; charset=utf-8")]
        if isinstance(body, tuple):  # (html, {header: value})
            body, extra = body
            headers += list(extra.items())
        start_response("200 OK" if body else "404 Not Found", headers)
        return [(body or "").encode()]
    origin, stop = serve_app(site)
    yield origin
    stop()


@pytest.fixture(scope="session")
def base_url(tmp_path_factory, clinic_site):
    """Serve the real app (same corpus and API as production), allowing the clinic site's origin."""
    db = tmp_path_factory.mktemp("browser") / "faqbot.sqlite3"
    origin, stop = serve_app(create_app({"TESTING": True, "DATABASE": str(db), "CORS_ORIGINS": clinic_site}))
    yield origin
    stop()


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole run."""
    executable = chromium_path()
    if executable is None:
        message = "Chromium not found: apt-get install -y chromium (or set FAQBOT_CHROMIUM)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield browser
        browser.close()


@pytest.fixture
def make_page(browser, base_url):
    """Open pages in fresh contexts (so sessionStorage starts empty) and fail on script errors."""
    contexts, errors = [], []

    def make(**options):
        context = browser.new_context(viewport=options.pop("viewport", {"width": 1280, "height": 800}), **options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("dialog", lambda dialog: (errors.append(f"dialog opened: {dialog.message}"), dialog.dismiss()))
        return page

    yield make
    for context in contexts:
        context.close()
    assert not errors, errors


@pytest.fixture
def page(make_page):
    """A desktop-sized page in a fresh context."""
    return make_page()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """The folder for screenshots (ignored by git)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


AXE = Path(__file__).parent / "vendor" / "axe.min.js"


def run_axe(page, include: str = "faqbot-widget") -> list[str]:
    """Run axe-core (vendored, see vendor/README.md) on the widget; describe each violation."""
    # Let transitions end first: mid-fade (the panel opens over 0.18 s) a colour's contrast is measured
    # against a half-transparent background, and the check fails on some runs.
    page.evaluate("""async (host) => {
        const root = document.querySelector(host)?.shadowRoot;
        const running = [...document.getAnimations(), ...(root ? root.getAnimations() : [])]
            .filter((a) => a.effect && a.effect.getTiming().iterations !== Infinity);
        await Promise.all(running.map((a) => a.finished.catch(() => null)));
    }""", include)
    if not page.evaluate("!!window.axe"):
        # evaluate(), not a <script> tag: the page's CSP forbids inline scripts.
        page.evaluate(AXE.read_text() + "\n;0")
    result = page.evaluate("""async (host) => {
        const r = await axe.run({ include: [[host]] }, { resultTypes: ["violations"] });
        return r.violations.map((v) => `${v.id}: ${v.help} at ${v.nodes.map((n) => JSON.stringify(n.target)).join(", ")}`);
    }""", include)
    return result


@pytest.fixture(scope="session")
def axe_violations():
    """run_axe, for tests: axe_violations(page) lists the widget's violations."""
    return run_axe
