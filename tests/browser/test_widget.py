"""The chat widget in a real browser: embed, converse, fail gracefully, stay accessible and safe."""
from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Page, Route, expect

XSS = "<img src=x onerror=alert(1)>"
DESKTOP = {"width": 1280, "height": 800}
MOBILE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
SIZES = pytest.mark.parametrize("size", ["desktop", "mobile"])
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

# Contrast of text against the nearest opaque background, computed in the page (WCAG 2 formula).
CONTRAST_JS = """
(el) => {
  const ctx = Object.assign(document.createElement("canvas"), { width: 1, height: 1 }).getContext("2d");
  const rgba = (c) => { ctx.clearRect(0, 0, 1, 1); ctx.fillStyle = c; ctx.fillRect(0, 0, 1, 1); return [...ctx.getImageData(0, 0, 1, 1).data]; };
  const lum = (c) => c.slice(0, 3).map((v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4))
    .reduce((a, v, i) => a + v * [0.2126, 0.7152, 0.0722][i], 0);
  let bg = el;
  while (bg && rgba(getComputedStyle(bg).backgroundColor)[3] === 0) bg = bg.parentElement || bg.getRootNode().host;
  const [a, b] = [lum(rgba(getComputedStyle(el).color)), lum(rgba(getComputedStyle(bg).backgroundColor))];
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}
"""


def open_widget(page: Page, url: str) -> None:
    """Load the demo page and open the chat with the mouse."""
    page.goto(url + "/")
    page.locator(".launch").click()
    expect(page.locator(".log > .msg.bot").first).to_be_visible()


def ask(page: Page, text: str):
    """Type a question, send it with Enter, and return the reply bubble."""
    replies = page.locator(".log > .msg.bot")
    count = replies.count()
    page.locator("#fb-in").fill(text)
    page.locator("#fb-in").press("Enter")
    expect(replies).to_have_count(count + 1)
    expect(page.locator(".typing")).to_be_hidden()
    return replies.nth(count)


def chat_bodies(page: Page) -> list[dict]:
    """Collect the JSON bodies the page posts to /api/chat."""
    bodies: list[dict] = []
    page.on("request", lambda r: r.url.endswith("/api/chat") and bodies.append(json.loads(r.post_data or "{}")))
    return bodies


def fake_reply(**fields) -> dict:
    """A well-formed /api/chat reply with the given fields replaced."""
    reply = {"session_id": "fake-session-0001", "reply_id": "fake-reply-01", "type": "answer", "answer": "Yes.",
             "caution": None, "passages": [], "disclaimer": "General information, not medical advice.",
             "suggestions": [], "contact": {"name": "Clinic", "phone": "(02) 5550 1234", "email": "a@b.example",
                                            "booking_url": "https://clinic.example/book"}}
    reply.update(fields)
    return reply


def test_no_request_or_storage_before_the_visitor_opens_the_chat(page: Page, base_url: str):
    paths: list[str] = []
    page.on("request", lambda r: paths.append(urlparse(r.url).path))
    page.goto(base_url + "/")
    expect(page.locator(".launch")).to_be_visible()
    page.wait_for_timeout(500)
    assert sorted(set(paths)) == ["/", "/widget.css", "/widget.js"]
    assert page.evaluate("sessionStorage.length + localStorage.length") == 0
    assert page.context.cookies() == []

    page.locator(".launch").click()
    expect(page.locator(".chip").first).to_be_visible()
    assert "/api/info" in paths
    assert page.evaluate("sessionStorage.length") == 1


def test_ask_a_question_and_see_answer_with_disclaimer_and_sources(page: Page, base_url: str, artifacts: Path):
    open_widget(page, base_url)
    expect(page.locator(".launch")).to_have_attribute("aria-expanded", "true")
    expect(page.locator(".title")).to_have_text("Harbourside Assistant")
    chips = page.locator(".chip")
    assert 3 <= chips.count() <= 4

    reply = ask(page, "what is remedial massage?")
    expect(reply).to_have_class("msg bot answer")
    expect(reply.locator(".txt")).to_contain_text("massage")
    expect(reply.locator(".disc")).to_be_visible()
    expect(reply.locator(".disc summary")).to_contain_text("not medical advice")
    expect(reply.locator(".src > p")).to_contain_text("Remedial Massage")
    page.mouse.move(0, 0)
    page.screenshot(path=str(artifacts / "widget-desktop.png"))

    passages = reply.locator("blockquote")
    expect(passages.first).to_be_hidden()
    reply.locator("summary.link").click()
    expect(passages.first).to_be_visible()
    expect(reply.locator("summary.link")).to_contain_text("Hide sources")
    expect(reply.locator(".cite").first).not_to_be_empty()

    with page.expect_response("**/api/feedback") as response:
        reply.get_by_role("button", name="Helpful", exact=True).click()
    assert response.value.status == 201
    expect(reply.get_by_role("button", name="Helpful", exact=True)).to_have_attribute("aria-pressed", "true")
    expect(reply.locator(".vs")).to_have_text("Thanks for your feedback.")


def test_each_source_links_to_its_article_in_a_new_tab_at_the_passages_heading(page: Page, base_url: str):
    open_widget(page, base_url)
    reply = ask(page, "can remedial massage help my immune system?")
    title_link = reply.locator(".src > p a").first
    expect(title_link).to_have_attribute("target", "_blank")
    expect(title_link).to_have_attribute("rel", "noopener")
    assert title_link.get_attribute("href").startswith(base_url + "/articles/")
    reply.locator("summary.link").click()
    cite = reply.locator("blockquote .cite a").first
    heading = cite.evaluate("a => a.firstChild.textContent").split(" › ", 1)[1]
    href = cite.get_attribute("href")
    assert href.startswith(base_url + "/articles/") and "#" in href, href
    with page.context.expect_page() as opened:
        cite.click()
    article = opened.value
    article.wait_for_load_state()
    assert article.url == href
    target = article.locator("h2:target")
    expect(target).to_have_text(heading)
    expect(target).to_be_in_viewport()


def test_a_source_url_that_is_not_a_web_address_is_not_a_link(page: Page, base_url: str):
    passages = [{"id": "p1", "text": "Text.", "score": 1.0,
                 "source": {"id": "s", "title": "Bad", "heading": None, "url": "javascript:alert(1)"}},
                {"id": "p2", "text": "More.", "score": 0.5,
                 "source": {"id": "t", "title": "Public", "heading": "Part", "url": "https://clinic.example/a#part"}}]
    page.route("**/api/chat", lambda route: route.fulfill(json=fake_reply(passages=passages)))
    open_widget(page, base_url)
    reply = ask(page, "hello")
    expect(reply.locator(".src > p")).to_have_text("Sources: Bad · Public (opens in a new tab)")
    expect(reply.locator(".src > p a")).to_have_count(1)
    expect(reply.locator(".src > p a")).to_have_attribute("href", "https://clinic.example/a#part")


def test_a_host_button_marked_data_faqbot_open_opens_the_chat(page: Page, base_url: str):
    page.goto(base_url + "/")
    page.get_by_role("button", name="Ask our assistant").click()
    expect(page.locator(".panel")).to_be_visible()
    expect(page.locator("#fb-in")).to_be_focused()


def test_a_suggestion_chip_asks_its_question(page: Page, base_url: str):
    open_widget(page, base_url)
    ask(page, "What is remedial massage?")
    chip = page.locator(".chips .chip").first
    question = chip.inner_text()
    replies = page.locator(".log > .msg.bot")
    count = replies.count()
    chip.click()
    expect(page.locator(".msg.user").last).to_contain_text(question)
    expect(replies).to_have_count(count + 1)
    expect(replies.last).not_to_have_class("msg bot err")


def test_a_starter_chip_asks_its_question(page: Page, base_url: str):
    open_widget(page, base_url)
    page.locator(".chip", has_text="back pain").click()
    expect(page.locator(".msg.user")).to_contain_text("back pain")
    expect(page.locator(".msg.answer")).to_be_visible()


def test_a_follow_up_in_the_same_session_uses_context(page: Page, base_url: str):
    bodies = chat_bodies(page)
    open_widget(page, base_url)
    ask(page, "Does it help with posture?")
    follow_up = ask(page, "how many sessions would that take?")
    assert "session_id" not in bodies[0]
    assert bodies[1]["session_id"] == page.evaluate("Object.values(sessionStorage).map(JSON.parse)[0].sid")
    expect(follow_up).to_have_class("msg bot answer")
    # Alone, the question is about sessions in general; in context it stays on posture.
    expect(follow_up.locator(".txt")).to_contain_text("posture")


def test_reload_keeps_the_conversation(page: Page, base_url: str):
    bodies = chat_bodies(page)
    open_widget(page, base_url)
    ask(page, "What is remedial massage?")
    session_id = page.evaluate("Object.values(sessionStorage).map(JSON.parse)[0].sid")
    page.reload()
    expect(page.locator(".panel")).to_be_visible()
    expect(page.locator(".msg.user")).to_have_text("You: What is remedial massage?")
    expect(page.locator(".msg.answer")).to_have_count(1)
    expect(page.locator(".chips .chip").first).to_be_visible()
    ask(page, "Does it help with posture?")
    assert bodies[1]["session_id"] == session_id

    page.locator(".x").click()
    page.reload()
    expect(page.locator(".panel")).to_be_hidden()
    page.locator(".launch").click()
    expect(page.locator(".msg.user")).to_have_count(2)


def test_an_urgent_message_is_styled_unmistakably(page: Page, base_url: str):
    open_widget(page, base_url)
    reply = ask(page, "I have crushing chest pain")
    expect(reply).to_have_class("msg bot urgent")
    # Announced once, by the conversation log: no role="alert" of its own inside the live region.
    live = reply.evaluate("""e => { let n = 0;
        for (let x = e; x; x = x.parentElement) n += x.matches('[role=alert],[role=status],[role=log],[aria-live]:not([aria-live=off])');
        return n + e.querySelectorAll('[role=alert],[aria-live=assertive]').length; }""")
    assert live == 1
    expect(reply.locator(".uh")).to_have_text("Urgent: get help now")
    expect(reply.locator(".txt")).to_contain_text("emergency")
    expect(reply.locator(".disc")).to_be_visible()
    assert reply.evaluate("e => getComputedStyle(e).borderTopColor") == "rgb(180, 35, 24)"
    assert reply.locator(".vote").count() == 0


def test_a_fallback_offers_the_clinic_contact(page: Page, base_url: str):
    open_widget(page, base_url)
    reply = ask(page, "Do you have bike parking?")
    expect(reply).to_have_class("msg bot fallback")
    expect(reply.locator("a.btn")).to_have_attribute("href", "https://harbourside-massage.example/book")
    expect(reply.locator("a[href^='tel:']")).to_have_attribute("href", "tel:0255501234")
    expect(reply.locator("a[href^='mailto:']")).to_be_visible()
    expect(reply.locator(".disc")).to_be_visible()


def test_a_caution_is_shown_once_in_its_own_box(page: Page, base_url: str):
    open_widget(page, base_url)
    reply = ask(page, "Can massage help with back pain after my recent surgery?")
    expect(reply.locator(".caution")).to_contain_text("recent surgery")
    assert "recent surgery" not in reply.locator(".txt").inner_text()


def test_a_visitor_message_with_html_is_shown_as_text(page: Page, base_url: str):
    open_widget(page, base_url)
    ask(page, XSS)
    expect(page.locator(".msg.user")).to_have_text("You: " + XSS)
    assert page.locator("faqbot-widget img").count() == 0
    page.reload()
    expect(page.locator(".msg.user")).to_have_text("You: " + XSS)
    assert page.locator("faqbot-widget img").count() == 0


def test_a_server_reply_with_html_is_shown_as_text(page: Page, base_url: str):
    reply = fake_reply(
        answer=XSS, caution="Careful: " + XSS, suggestions=[XSS],
        passages=[{"id": "p1", "text": XSS, "score": 1.0, "source": {"id": "s", "title": XSS, "heading": XSS}}],
        disclaimer=XSS, contact={"name": XSS, "phone": XSS, "email": XSS, "booking_url": "javascript:alert(1)"})
    page.route("**/api/chat", lambda route: route.fulfill(json=reply))
    open_widget(page, base_url)
    bubble = ask(page, "hello")
    expect(bubble.locator(".txt")).to_have_text(XSS)
    expect(bubble.locator(".caution")).to_contain_text(XSS)
    expect(bubble.locator("blockquote")).to_contain_text(XSS)
    expect(page.locator(".chips .chip")).to_have_text(XSS)
    assert page.locator("faqbot-widget img").count() == 0

    page.unroute("**/api/chat")
    page.route("**/api/chat", lambda route: route.fulfill(json={**reply, "type": "fallback", "passages": []}))
    bubble = ask(page, "and parking?")
    expect(bubble.locator(".contact a")).to_have_count(1)  # no javascript: booking link, no bad mailto
    expect(bubble.locator(".contact a")).to_have_text("Call " + XSS)
    assert page.locator("faqbot-widget img").count() == 0


def test_keyboard_only_flow(page: Page, base_url: str):
    page.goto(base_url + "/")
    expect(page.locator(".launch")).to_be_visible()
    launcher_focused = "() => document.activeElement.shadowRoot?.activeElement?.classList.contains('launch')"
    for _ in range(80):  # the whole page twice over: one missed press must not fail the run
        page.keyboard.press("Tab")
        if page.evaluate(launcher_focused):
            break
    assert page.evaluate(launcher_focused), "Tab never reached the launcher"
    assert page.locator(".launch").evaluate("e => getComputedStyle(e).outlineStyle") == "solid"

    page.keyboard.press("Enter")
    expect(page.locator(".panel")).to_be_visible()
    expect(page.locator("#fb-in")).to_be_focused()
    page.keyboard.type("What is remedial massage?")
    page.keyboard.press("Enter")
    expect(page.locator(".msg.answer")).to_be_visible()
    expect(page.locator("#fb-in")).to_be_focused()

    page.keyboard.press("Escape")
    expect(page.locator(".panel")).to_be_hidden()
    expect(page.locator(".launch")).to_be_focused()
    expect(page.locator(".launch")).to_have_attribute("aria-expanded", "false")


def test_accessible_structure(page: Page, base_url: str):
    open_widget(page, base_url)
    expect(page.get_by_role("dialog", name="Harbourside Assistant")).to_be_visible()
    log = page.get_by_role("log", name="Conversation")
    expect(log).to_have_attribute("aria-live", "polite")
    expect(page.get_by_role("button", name="Close chat").first).to_be_visible()
    expect(page.get_by_role("textbox", name="Your question")).to_be_visible()
    expect(page.get_by_role("button", name="Send")).to_be_visible()
    expect(page.locator(".typing")).to_have_attribute("aria-hidden", "true")
    ask(page, "What is remedial massage?")
    expect(log).to_have_attribute("aria-live", "polite")
    for selector in (".launch", ".head", ".sub", ".msg.user", ".msg.answer .txt", ".src > p", ".disc summary",
                     ".chips .chip", "#fb-in"):
        ratio = page.locator(selector).first.evaluate(CONTRAST_JS)
        assert ratio >= 4.5, f"{selector} contrast {ratio:.2f}"


def test_reduced_motion_turns_off_animation(make_page, base_url: str):
    page = make_page(reduced_motion="reduce")
    open_widget(page, base_url)
    assert page.locator(".panel").evaluate("e => getComputedStyle(e).transitionDuration") == "0s"
    assert page.locator(".typing span").first.evaluate("e => getComputedStyle(e).animationName") == "none"


def test_mobile_full_screen_without_horizontal_scroll(make_page, base_url: str, artifacts: Path):
    page = make_page(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    open_widget(page, base_url)
    ask(page, "What is remedial massage?")
    page.screenshot(path=str(artifacts / "widget-mobile.png"))
    box = page.locator(".panel").bounding_box()
    assert box == {"x": 0, "y": 0, "width": 360, "height": pytest.approx(740, abs=0.5)}
    page.locator(".msg.answer summary.link").click()
    ask(page, "x" * 300)  # an unbroken word must wrap, not widen the page
    ask(page, "What is remedial massage?")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert page.locator(".scroll").evaluate("e => e.scrollWidth <= e.clientWidth")
    form = page.locator(".form").bounding_box()
    assert form["y"] + form["height"] <= 740


def test_network_failure_shows_a_retry_that_works(page: Page, base_url: str):
    open_widget(page, base_url)
    page.route("**/api/chat", lambda route: route.abort("internetdisconnected"))
    error = ask(page, "What is remedial massage?")
    expect(error).to_have_class("msg bot err")
    expect(error).to_contain_text("couldn't reach")
    expect(page.locator(".typing")).to_be_hidden()
    expect(page.locator("#fb-in")).to_be_enabled()

    page.unroute("**/api/chat")
    error.get_by_role("button", name="Retry").click()
    expect(page.locator(".msg.answer")).to_be_visible()
    expect(page.locator(".err")).to_have_count(0)
    expect(page.locator(".msg.user")).to_have_count(1)


def test_a_reply_that_never_comes_times_out_with_a_retry(page: Page, base_url: str):
    hanging: list[Route] = []
    page.clock.install()
    open_widget(page, base_url)
    page.route("**/api/chat", lambda route: hanging.append(route))
    page.locator("#fb-in").fill("What is remedial massage?")
    page.locator("#fb-in").press("Enter")
    expect(page.locator(".typing")).to_be_visible()
    page.clock.run_for(21_000)
    expect(page.locator(".msg.err")).to_contain_text("took too long")
    expect(page.locator(".typing")).to_be_hidden()
    assert len(hanging) == 1


@pytest.mark.parametrize("status, headers, text", [
    (429, {"Retry-After": "7"}, "wait 7 seconds"),
    (500, {}, "Something went wrong on our side"),
    (503, {}, "Something went wrong on our side"),
])
def test_server_errors_show_a_friendly_message_and_retry(page: Page, base_url: str, status, headers, text):
    body = {"error": {"code": "x", "message": "Traceback: internal detail"}}
    page.route("**/api/chat", lambda route: route.fulfill(status=status, headers=headers, json=body))
    open_widget(page, base_url)
    error = ask(page, "What is remedial massage?")
    expect(error).to_contain_text(text)
    expect(error).not_to_contain_text("Traceback")
    expect(error.get_by_role("button", name="Retry")).to_be_visible()
    expect(page.locator(".typing")).to_be_hidden()


def test_a_rejected_message_is_handed_back_for_editing(page: Page, base_url: str):
    open_widget(page, base_url)
    long = "why " * 300
    page.locator("#fb-in").evaluate("(e, v) => { e.removeAttribute('maxlength'); e.value = v; }", long)
    page.locator("#fb-in").press("Enter")
    expect(page.locator(".msg.err")).to_contain_text("too long")
    expect(page.locator(".msg.user")).to_have_count(0)
    expect(page.locator("#fb-in")).to_have_value(long.strip())


def test_embedded_on_another_site_with_data_attributes(make_page, base_url, clinic_site, clinic_pages, artifacts):
    page = make_page()
    html = f"""<!doctype html><html><head><style>
      * {{ font-size: 40px !important; color: red !important; }}
      div, p, button {{ padding: 30px; margin: 20px; border: 5px dashed red; background: yellow; }}
      </style></head><body><h1>Another clinic</h1>
      <script src="{base_url}/widget.js" data-api="{base_url}" data-title="Ask Bayview" data-accent="#ffcc00"
        data-position="left" data-label="Questions?" data-greeting="G'day! <b>Ask</b> away."
        data-starters="What is remedial massage? | Can it help with posture?|Does it hurt?" defer></script>
      </body></html>"""
    clinic_pages["/bayview"] = html
    page.goto(clinic_site + "/bayview")
    launcher = page.locator(".launch")
    expect(launcher).to_have_text("Questions?")
    box = launcher.bounding_box()
    assert box["x"] < 100 and box["height"] == 52, box
    assert launcher.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(255, 204, 0)"
    assert launcher.evaluate(CONTRAST_JS) >= 4.5  # dark text on the light accent

    launcher.click()
    expect(page.locator(".title")).to_have_text("Ask Bayview")
    expect(page.locator(".log > .msg.bot").first).to_have_text("G'day! <b>Ask</b> away.")
    expect(page.locator(".chip")).to_have_text(["What is remedial massage?", "Can it help with posture?",
                                                 "Does it hurt?"])
    assert page.locator(".chip").first.evaluate(CONTRAST_JS) >= 4.5
    page.locator(".chip").first.click()  # a cross-origin request: needs the API's CORS
    expect(page.locator(".msg.answer")).to_be_visible()
    page.screenshot(path=str(artifacts / "widget-embedded.png"))



def sized(make_page, size: str, **options) -> Page:
    """A page at a desktop (1280x800) or phone (390x844, touch) size."""
    return make_page(**({"viewport": DESKTOP} if size == "desktop" else MOBILE), **options)


@SIZES
def test_axe_finds_no_violations_in_any_state(make_page, base_url: str, size: str, axe_violations):
    page = sized(make_page, size)
    page.goto(base_url + "/")
    expect(page.locator(".launch")).to_be_visible()
    assert axe_violations(page) == [], "closed"
    open_widget(page, base_url)
    assert axe_violations(page) == [], "open"
    ask(page, "What is remedial massage?").get_by_role("button", name="Helpful", exact=True).click()
    ask(page, "I have crushing chest pain")
    ask(page, "I don't see the point of living anymore")
    ask(page, "Do you have bike parking?")
    page.locator(".msg.answer summary.link").click()
    page.route("**/api/chat", lambda route: route.abort("internetdisconnected"))
    ask(page, "What is remedial massage?")
    assert axe_violations(page) == [], "replies"


def test_the_widget_adds_no_banner_landmark(page: Page, base_url: str):
    open_widget(page, base_url)
    # The demo page has its own <header>: the page's one banner.
    expect(page.get_by_role("banner")).to_have_count(1)
    assert "banner" not in page.locator(".panel").aria_snapshot()


def focused(page: Page) -> str:
    """Describe where keyboard focus is: 'input', 'dialog', 'launcher', 'body' or the element's tag and text."""
    return page.evaluate("""() => {
        let el = document.activeElement;
        while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
        if (!el || el === document.body) return "body";
        if (el.id === "fb-in") return "input";
        if (el.getAttribute("role") === "dialog") return "dialog";
        if (el.classList.contains("launch")) return "launcher";
        return el.tagName.toLowerCase() + ":" + (el.getAttribute("aria-label") || el.textContent.trim()).slice(0, 40);
    }""")


@SIZES
def test_focus_stays_in_the_chat_after_a_chip_or_retry_is_pressed(make_page, base_url: str, size: str):
    page = sized(make_page, size)
    home = "input" if size == "desktop" else "dialog"  # phones: no keyboard popping up over the reply
    open_widget(page, base_url)
    chip = page.locator(".chips .chip").first
    chip.tap() if size == "mobile" else chip.click()
    expect(page.locator(".msg.answer")).to_be_visible()
    assert focused(page) == home
    page.keyboard.press("Escape")
    expect(page.locator(".panel")).to_be_hidden()

    page.locator(".launch").click()
    page.route("**/api/chat", lambda route: route.abort("internetdisconnected"))
    ask(page, "Does it help with posture?")
    page.unroute("**/api/chat")
    retry = page.get_by_role("button", name="Retry")
    retry.tap() if size == "mobile" else retry.click()
    expect(page.locator(".msg.answer")).to_have_count(2)
    assert focused(page) == home
    page.keyboard.press("Escape")
    expect(page.locator(".panel")).to_be_hidden()


def rgb(css: str) -> tuple[float, ...]:
    """Parse a computed 'rgb(r, g, b)' or 'rgba(r, g, b, a)' colour."""
    return tuple(float(v) for v in css[css.index("(") + 1:css.index(")")].split(","))


def contrast(a: tuple, b: tuple) -> float:
    """The WCAG 2 contrast ratio of two opaque colours."""
    def lum(c):
        v = [x / 255 for x in c[:3]]
        v = [x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4 for x in v]
        return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]
    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.parametrize("accent", ["#0b5e57", "#ffcc00", "#111111", "#ffffff"])
def test_the_launcher_focus_ring_shows_on_any_background(make_page, base_url, clinic_site, clinic_pages, accent):
    page = make_page()
    clinic_pages[f"/ring-{accent[1:]}"] = (f'<!doctype html><html lang="en"><body style="background:#000">'
                                           f'<a href="#">First</a><script src="{base_url}/widget.js" '
                                           f'data-accent="{accent}" defer></script></body></html>')
    page.goto(f"{clinic_site}/ring-{accent[1:]}")
    launcher = page.locator(".launch")
    expect(launcher).to_be_visible()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(launcher).to_be_focused()
    style = launcher.evaluate("""e => { const s = getComputedStyle(e);
        return [s.outlineStyle, s.outlineColor, parseFloat(s.outlineWidth), parseFloat(s.outlineOffset), s.boxShadow,
                s.backgroundColor]; }""")
    outline_style, outline, width, offset, shadow, fill = style
    # Inner ring: a solid box-shadow spread right around the button; outer ring: the outline just past it.
    inner, _, rest = shadow.partition(")")
    numbers = [float(n.removesuffix("px")) for n in rest.split(",")[0].split()]
    assert outline_style == "solid" and width >= 2, style
    assert numbers[:3] == [0, 0, 0] and numbers[3] >= 2 and offset >= numbers[3], style
    inner, outer = rgb(inner + ")"), rgb(outline)
    assert contrast(inner, outer) >= 3, style
    for background in ((0, 0, 0), (255, 255, 255), (118, 118, 118), (11, 94, 87), rgb(fill)):
        assert max(contrast(inner, background), contrast(outer, background)) >= 3, (background, style)


def test_a_page_whose_csp_blocks_the_stylesheet_keeps_the_widget_hidden(make_page, base_url, clinic_site, clinic_pages):
    page = make_page()
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    csp = f"default-src 'self'; script-src 'self' {base_url}; connect-src {base_url}; style-src 'self'"
    clinic_pages["/strict"] = ('<!doctype html><html lang="en"><body><h1>Strict clinic</h1>'
                               f'<script src="{base_url}/widget.js" defer></script></body></html>',
                               {"Content-Security-Policy": csp})
    page.goto(clinic_site + "/strict", wait_until="load")
    expect(page.locator("faqbot-widget")).to_be_attached()
    page.wait_for_timeout(300)
    expect(page.locator(".launch")).to_be_hidden()
    expect(page.locator(".panel")).to_be_hidden()
    advice = [e for e in errors if e.startswith("faqbot:")]
    assert len(advice) == 1 and f"add {base_url} to its style-src" in advice[0], errors


def test_the_launcher_keeps_its_name_and_tells_its_state(page: Page, base_url: str):
    page.goto(base_url + "/")
    launcher = page.get_by_role("button", name="Ask a question", exact=True)
    expect(launcher).to_have_attribute("aria-expanded", "false")
    launcher.click()
    expect(page.locator(".panel")).to_be_visible()
    expect(launcher).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("button", name="Close chat")).to_have_count(1)  # the X in the header only
    controls = launcher.get_attribute("aria-controls")
    expect(page.get_by_role("dialog")).to_have_attribute("id", controls)
    launcher.click()
    expect(page.locator(".panel")).to_be_hidden()
    expect(launcher).to_have_attribute("aria-expanded", "false")


@SIZES
def test_closing_gives_focus_back_to_the_page_button_that_opened_the_chat(make_page, base_url: str, size: str):
    page = sized(make_page, size)
    page.goto(base_url + "/")
    opener = page.get_by_role("button", name="Ask our assistant")
    opener.focus()
    page.keyboard.press("Enter")
    expect(page.locator(".panel")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator(".panel")).to_be_hidden()
    expect(opener).to_be_focused()

    opener.click()
    page.get_by_role("button", name="Close chat").click()
    expect(page.locator(".panel")).to_be_hidden()
    expect(opener).to_be_focused()

    # A script's open() gives focus back to what had it; the launcher itself keeps focus.
    link = page.get_by_role("link", name="Treatments")
    if size == "desktop":
        link.focus()
        page.evaluate("window.faqbotWidget.open()")
        expect(page.locator(".panel")).to_be_visible()
        page.keyboard.press("Escape")
        expect(link).to_be_focused()
    page.locator(".launch").click()
    page.keyboard.press("Escape")
    expect(page.locator(".launch")).to_be_focused()


def ink(page: Page, png: bytes) -> int:
    """Count the pixels of a PNG that clearly differ (by more than 64 in a channel) from its top-left corner."""
    return page.evaluate("""async (data) => {
        const img = await createImageBitmap(new Blob([Uint8Array.from(atob(data), (c) => c.charCodeAt(0))]));
        const ctx = new OffscreenCanvas(img.width, img.height).getContext("2d");
        ctx.drawImage(img, 0, 0);
        const x = ctx.getImageData(0, 0, img.width, img.height).data;
        let n = 0;
        for (let i = 0; i < x.length; i += 4) n += [0, 1, 2].some((c) => Math.abs(x[i + c] - x[c]) > 64);
        return n;
    }""", base64.b64encode(png).decode())


@SIZES
def test_the_pressed_vote_shows_in_forced_colours(make_page, base_url: str, size: str):
    page = sized(make_page, size)
    page.emulate_media(forced_colors="active")
    page.route("**/api/feedback", lambda route: route.fulfill(status=201, json={"ok": True}))
    open_widget(page, base_url)
    reply = ask(page, "What is remedial massage?")
    up = reply.get_by_role("button", name="Helpful", exact=True)
    up.click()
    expect(up).to_have_attribute("aria-pressed", "true")
    page.locator("#fb-in").focus()  # no focus ring or hover in the picture: only the pressed state
    page.mouse.move(0, 0)
    pressed = ink(page, up.screenshot(animations="disabled"))
    unpressed = ink(page, reply.get_by_role("button", name="Not helpful").screenshot(animations="disabled"))
    # Unpressed, only the thumb's strokes differ from the background; pressed, it needs a fill or a border too.
    assert pressed >= 2 * unpressed, (pressed, unpressed)


def test_the_widget_is_english_on_a_page_in_another_language(make_page, base_url, clinic_site, clinic_pages):
    page = make_page()
    clinic_pages["/de"] = (f'<!doctype html><html lang="de"><body><h1>Massagepraxis</h1>'
                           f'<script src="{base_url}/widget.js" data-api="{base_url}" defer></script></body></html>')
    page.goto(clinic_site + "/de")
    page.locator(".launch").click()
    expect(page.locator(".log > .msg.bot").first).to_be_visible()
    for selector in (".launch", ".panel", ".log > .msg.bot", "#fb-in"):
        assert page.locator(selector).first.evaluate("e => e.matches(':lang(en)') && !e.matches(':lang(de)')"), selector


@SIZES
def test_tab_never_leaves_the_open_chat_for_hidden_content(make_page, base_url: str, size: str):
    page = sized(make_page, size)
    open_widget(page, base_url)
    ask(page, "What is remedial massage?")
    page.locator("#fb-in").focus()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Send")).to_be_focused()
    page.keyboard.press("Tab")
    if size == "desktop":
        # Non-modal beside the page: on to the launcher (shown, expanded), which closes it; then the page.
        expect(page.get_by_role("dialog")).not_to_have_attribute("aria-modal", "true")
        expect(page.locator(".launch")).to_be_focused()
        expect(page.locator(".launch")).to_be_visible()
        expect(page.locator(".launch")).to_have_attribute("aria-expanded", "true")
        return
    # Full screen on a phone: a modal dialog that Tab and Shift+Tab cycle through.
    expect(page.get_by_role("dialog")).to_have_attribute("aria-modal", "true")
    expect(page.get_by_role("button", name="Close chat")).to_be_focused()
    inside = "() => { let e = document.activeElement; while (e?.shadowRoot?.activeElement) e = e.shadowRoot.activeElement; return !!e?.closest?.('.panel') && e.checkVisibility(); }"
    for _ in range(30):
        page.keyboard.press("Tab")
        assert page.evaluate(inside), focused(page)
    page.get_by_role("button", name="Close chat").focus()
    page.keyboard.press("Shift+Tab")
    expect(page.get_by_role("button", name="Send")).to_be_focused()


def test_a_site_the_api_does_not_allow_is_told_apart_from_a_network_failure(make_page, base_url, clinic_site,
                                                                             clinic_pages):
    page = make_page()
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and m.text.startswith("faqbot:") and errors.append(m.text))
    clinic_pages["/unlisted"] = (f'<!doctype html><html lang="en"><body><h1>Another clinic</h1>'
                                 f'<script src="{base_url}/widget.js" data-api="{base_url}" defer></script></body></html>')
    # Same server, another origin: the app's FAQBOT_CORS_ORIGINS lists 127.0.0.1's, not localhost's.
    unlisted = clinic_site.replace("127.0.0.1", "localhost")
    page.goto(unlisted + "/unlisted")
    page.locator(".launch").click()
    expect(page.locator(".log > .msg.bot")).to_have_text("Hi! What would you like to know?")  # /api/info refused
    error = ask(page, "What is remedial massage?")
    expect(error).to_contain_text("isn't set up for this website")
    expect(error).not_to_contain_text("connection")
    expect(error.get_by_role("button", name="Retry")).to_have_count(0)  # retrying can't help
    assert len(errors) == 1, errors  # once, though /api/info failed too
    assert f"FAQBOT_CORS_ORIGINS={unlisted}" in errors[0]

    # On an allowed site, a request that fails on the way is still a network failure.
    page = make_page()
    clinic_pages["/listed"] = clinic_pages["/unlisted"]
    page.goto(clinic_site + "/listed")
    page.locator(".launch").click()
    expect(page.locator(".chip").first).to_be_visible()
    page.route("**/api/chat", lambda route: route.abort("connectionreset"))
    error = ask(page, "What is remedial massage?")
    expect(error).to_contain_text("check your connection")
    expect(error.get_by_role("button", name="Retry")).to_be_visible()


@SIZES
def test_urgent_replies_offer_one_tap_calls(make_page, base_url: str, size: str, artifacts: Path):
    page = sized(make_page, size)
    open_widget(page, base_url)
    reply = ask(page, "I have crushing chest pain")
    expect(reply.get_by_role("link")).to_have_count(1)
    expect(reply.get_by_role("link", name="Call 000")).to_have_attribute("href", "tel:000")
    crisis = ask(page, "I want to kill myself")
    expect(crisis).to_have_class("msg bot urgent")
    expect(crisis.get_by_role("link", name="Call 000")).to_have_attribute("href", "tel:000")
    call = crisis.get_by_role("link", name="Call Lifeline 13 11 14")
    expect(call).to_have_attribute("href", "tel:131114")
    box = call.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44, box
    assert call.evaluate(CONTRAST_JS) >= 4.5
    # docs/widget.md shows these; refreshed only on request (FAQBOT_UPDATE_SCREENSHOTS=1), so a run never dirties the tree.
    page.mouse.move(0, 0)
    page.locator("#fb-in").blur()
    crisis.scroll_into_view_if_needed()
    name = f"widget-urgent-{size}.png"
    page.screenshot(path=str(DOCS_SCREENSHOTS / name if os.environ.get("FAQBOT_UPDATE_SCREENSHOTS") else artifacts / name),
                    animations="disabled")
    page.reload()  # kept with the conversation
    expect(page.locator(".msg.urgent").last.get_by_role("link", name="Call Lifeline 13 11 14")).to_be_visible()


def test_call_buttons_from_the_server_are_text_and_digits_only(page: Page, base_url: str):
    reply = fake_reply(type="urgent", answer="Call now.", actions=[{"label": XSS, "tel": "javascript:alert(1)//+61 2"}])
    page.route("**/api/chat", lambda route: route.fulfill(json=reply))
    open_widget(page, base_url)
    link = ask(page, "help").get_by_role("link")
    expect(link).to_have_text(XSS)
    expect(link).to_have_attribute("href", "tel:1+612")
    assert page.locator("faqbot-widget img").count() == 0
