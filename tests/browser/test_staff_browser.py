"""The staff console in a real browser: log in, explain a question, run an evaluation, under the strict CSP."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from servers import serve_app

from faqbot import create_app

TOKEN = "browser-staff-token-0123456789"
# The README's screenshot is refreshed only on request, so a test run never dirties the tree.
DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "staff-console.png"


@pytest.fixture(scope="module")
def staff_url(tmp_path_factory):
    """Serve the real app with the console on, with a few visitor questions in its log."""
    db = tmp_path_factory.mktemp("staff") / "faqbot.sqlite3"
    app = create_app({"TESTING": True, "DATABASE": str(db), "STAFF_TOKEN": TOKEN})
    client = app.test_client()
    for message in ("What is remedial massage?", "How much does a session cost?", "how much does it cost",
                    "Do you do hot stone massage?", "Can it help my sciatica?"):
        client.post("/api/chat", json={"message": message})
    origin, stop = serve_app(app)
    yield origin
    stop()


@pytest.fixture
def staff_page(browser, staff_url):
    """A fresh page that records script errors and CSP violations."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=staff_url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    # Chromium logs every 4xx page (a wrong token, a bad file) as a console error; only assets must load.
    page.on("console", lambda msg: msg.type == "error" and "Failed to load resource" not in msg.text
            and problems.append(msg.text))
    page.on("response", lambda r: "/static/" in r.url and r.status >= 400 and problems.append(f"{r.status} {r.url}"))
    yield page
    context.close()
    assert not problems, problems


def log_in(page: Page) -> None:
    page.goto("/staff/")
    expect(page).to_have_url("/staff/login?next=/staff/")
    page.get_by_label("Staff token").fill("not the token")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text("That token is not right.")
    page.get_by_label("Staff token").fill(TOKEN)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Try a question")).to_be_visible()


def test_log_in_explain_a_question_and_run_an_evaluation(staff_page: Page, artifacts: Path):
    page = staff_page
    log_in(page)

    page.get_by_label("Question").fill("Can remedial masage help my sore lower back?")
    page.get_by_role("button", name="Explain").click()
    expect(page.get_by_role("heading", name="What the visitor sees")).to_be_visible()
    expect(page.locator(".reply .badge")).to_have_text("answer")
    terms = page.locator("table.terms")
    expect(terms).to_contain_text("synonym")  # sore -> pain
    expect(terms).to_contain_text("masage")  # the spelling fix is shown
    expect(page.locator("table.hits tbody tr")).to_have_count(3)
    expect(page.locator(".decision")).to_contain_text("reaches the threshold")
    page.locator("#message").blur()  # no caret or focus ring: the same pixels on every run
    target = DOCS_SCREENSHOT if os.environ.get("FAQBOT_UPDATE_SCREENSHOTS") else artifacts / "staff-console.png"
    page.screenshot(path=str(target), full_page=True)

    page.get_by_role("link", name="Evaluation").click()
    page.get_by_role("button", name="Run evaluation").click()
    results = page.locator("#results")
    expect(results).to_contain_text("cases from eval/questions.json")
    expect(results.locator(".stat").first).to_contain_text("hit@1")
    expect(page.get_by_text("Every case passed.")).to_be_visible()


def test_a_bad_pasted_file_is_explained(staff_page: Page):
    page = staff_page
    log_in(page)
    page.goto("/staff/eval")
    page.locator("textarea[name=pasted]").fill('{"cases": [{"q": "hi"}]}')
    expect(page.locator("input[name=source][value=paste]")).to_be_checked()  # typing picks the source
    page.get_by_role("button", name="Run evaluation").click()
    expect(page.get_by_role("alert")).to_contain_text("case 1: 'kind' must be one of")


def test_visitor_questions_show_groups_with_the_closest_passage(staff_page: Page):
    page = staff_page
    log_in(page)
    page.get_by_role("link", name="Visitor questions").click()
    groups = page.locator("table.groups").first
    expect(groups).to_contain_text("How much does a session cost?")
    expect(groups.locator("tbody tr").first.locator("td").first).to_have_text("2")
    page.get_by_role("link", name="Explain").first.click()
    expect(page.locator(".decision")).to_contain_text("Clinic-topic rule")
