"""Staff teach the bot in a real browser: from an unanswered question to a published answer the widget gives."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from servers import serve_app
from test_staff_browser import TOKEN
from test_widget import ask, open_widget

from faqbot import create_app

DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "staff-knowledge.png"
UNANSWERED = "hunched from the laptop, worth a rub?"
PRICES = "How much is a 60-minute massage?"
PRICE_TEXT = "A 60-minute remedial massage is $110 <b>including</b> GST; health-fund rebates on the spot."


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The real app with the console on, a visitor question it could not answer in its log."""
    db = tmp_path_factory.mktemp("knowledge") / "faqbot.sqlite3"
    app = create_app({"TESTING": True, "DATABASE": str(db), "STAFF_TOKEN": TOKEN})
    client = app.test_client()
    assert client.post("/api/chat", json={"message": UNANSWERED}).get_json()["type"] == "fallback"
    origin, stop = serve_app(app)
    yield origin
    stop()


def test_attach_an_unanswered_question_write_a_price_answer_publish_and_the_widget_answers(
        browser, served: str, artifacts: Path):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=served)
    context.set_default_timeout(15_000)
    page: Page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("dialog", lambda dialog: (errors.append(f"dialog: {dialog.message}"), dialog.dismiss()))

    page.goto("/staff/login")
    page.get_by_label("Staff token").fill(TOKEN)
    page.get_by_label("Your name").fill("Robyn")
    page.get_by_role("button", name="Log in").click()

    # The unanswered question, in the visitor log, one click from its most likely passages.
    page.get_by_role("link", name="Visitor questions").click()
    row = page.locator("table.groups tr", has_text=UNANSWERED)
    row.get_by_role("link", name="Teach the bot").click()
    expect(page.get_by_role("heading", name="Teach the bot")).to_be_visible()
    candidates = page.locator("article.candidate")
    expect(candidates).to_have_count(3)
    posture = candidates.filter(has_text="Posture").first
    posture.get_by_role("button", name="Attach this question here").click()
    expect(page.locator(".flash.ok")).to_contain_text("Question attached")
    expect(page.locator("ul.changes").first).to_contain_text(UNANSWERED)

    # A clinic answer for prices, with markup typed in it: shown as text everywhere.
    page.locator("#new-answer summary").click() if not page.locator("#new-questions").is_visible() else None
    page.locator("#new-questions").fill(f"{PRICES}\nWhat are your prices?")
    page.locator("#new-answer-text").fill(PRICE_TEXT)
    page.locator("#new-link").fill("https://clinic.example/book")
    page.get_by_role("button", name="Add to the draft").click()
    expect(page.locator(".flash.ok")).to_contain_text("Clinic answer added")

    # Try both on the draft beside the published version.
    page.locator("#try-message").fill(UNANSWERED)
    page.get_by_role("button", name="Try", exact=True).click()
    expect(page.locator("#try .reply").nth(0).locator(".badge")).to_have_text("fallback")
    expect(page.locator("#try .reply").nth(1).locator(".badge")).to_have_text("answer")
    page.locator("#try-message").fill(PRICES)
    page.get_by_role("button", name="Try", exact=True).click()
    expect(page.locator("#try .reply").nth(1).locator(".bubble")).to_have_text(PRICE_TEXT)
    page.locator("#try-message").blur()  # no caret or focus ring: the same pixels on every run
    page.evaluate("window.scrollTo(0, 0)")
    target = DOCS_SCREENSHOT if os.environ.get("FAQBOT_UPDATE_SCREENSHOTS") else artifacts / "staff-knowledge.png"
    page.screenshot(path=str(target), full_page=False)

    page.get_by_role("button", name="Publish the draft").click()
    expect(page.locator(".flash.ok")).to_contain_text("Published version 2")
    expect(page.locator("#versions tbody tr").first).to_contain_text("Robyn")

    # A visitor, in the widget: both answered now.
    visitor = context.new_page()
    visitor.on("pageerror", lambda error: errors.append(str(error)))
    open_widget(visitor, served)
    reply = ask(visitor, UNANSWERED)
    expect(reply.locator(".txt")).to_contain_text(re.compile("posture", re.I))
    reply = ask(visitor, PRICES)
    expect(reply.locator(".txt")).to_contain_text(PRICE_TEXT)  # the tags shown as typed, not rendered
    expect(reply.locator(".txt b")).to_have_count(0)
    expect(reply.locator(".disc")).to_be_visible()

    # Roll back: the price answer is gone again.
    page.goto("/staff/knowledge#versions")
    page.locator("#versions tr", has_text="first import").get_by_role("button", name="Roll back to this").click()
    expect(page.locator(".flash.ok")).to_contain_text("Version 1 is live again")
    reply = ask(visitor, "What are your prices?")
    expect(reply.locator(".txt")).to_contain_text("contact the clinic")
    context.close()
    assert not errors, errors
