"""The console's Knowledge page: behind the login and CSRF, under the strict CSP, staff text shown as text."""
from staff_fixtures import CSRF, TOKEN, Console, console, staff_app  # noqa: F401


def test_the_knowledge_pages_need_a_login_and_the_forms_a_csrf_token(staff_app):
    client = staff_app.test_client()
    page = client.get("/staff/knowledge")
    assert page.status_code == 302 and "/staff/login" in page.location
    assert client.get("/staff/knowledge/fix?message=hello").status_code == 302
    refused = client.post("/staff/knowledge/answers", data={"questions": "a?", "answer": "b"})
    assert refused.status_code == 401
    logged = Console(client)
    no_token = client.post("/staff/knowledge/answers", data={"questions": "a?", "answer": "b"})
    assert no_token.status_code == 303  # sent back with "the form expired", nothing changed
    assert "Changes in the draft" not in logged.get("/staff/knowledge").text


def test_the_page_is_served_under_the_consoles_strict_csp_and_never_cached(console):
    page = console.get("/staff/knowledge")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store" and page.headers["X-Frame-Options"] == "DENY"


def test_staff_text_is_escaped_and_a_refused_edit_says_why(console):
    markup = '<script>alert("x")</script> Parking behind the clinic.'
    done = console.post("/staff/knowledge/answers", {"questions": "Is there parking?", "answer": markup})
    assert done.status_code == 303
    page = console.get("/staff/knowledge").text
    assert "<script>alert" not in page and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    console.post("/staff/knowledge/answers", {"questions": "", "answer": "x"})
    assert "must list 1 to 30 questions" in console.get("/staff/knowledge").text


def test_teach_the_bot_offers_three_passages_and_a_clinic_answer(console):
    page = console.get("/staff/knowledge/fix", query_string={"message": "hunched from the laptop, worth a rub?"})
    assert page.text.count("Attach this question here") == 3
    assert "/staff/knowledge?question=hunched" in page.text
    form = console.get("/staff/knowledge", query_string={"question": "hunched from the laptop"}).text
    assert ">hunched from the laptop</textarea>" in form  # the clinic answer's questions, filled in


def test_publishing_without_any_evaluation_says_so(tmp_path):
    from staff_fixtures import make_app
    console = Console(make_app(tmp_path, EVAL_FILE=str(tmp_path / "none.json")).test_client())
    console.post("/staff/knowledge/answers", {"questions": "Is there parking?", "answer": "Behind the clinic."})
    page = console.get(console.post("/staff/knowledge/publish").location).text
    assert "Published version 2" in page and "No evaluation ran" in page


def test_discard_throws_the_draft_away_in_the_console_and_the_api(console):
    from staff_fixtures import BEARER
    console.post("/staff/knowledge/answers", {"questions": "Is there parking?", "answer": "Behind the clinic."})
    assert "Changes in the draft" in console.get("/staff/knowledge").text
    page = console.get(console.post("/staff/knowledge/discard").location).text
    assert "Draft discarded" in page and "Changes in the draft" not in page
    api = console.client
    api.post("/api/staff/answers", headers=BEARER, json={"questions": ["Is there parking?"], "answer": "Behind."})
    body = api.post("/api/staff/draft/discard", headers=BEARER).get_json()
    assert body["ok"] and body["draft"]["changes"] == [] and body["draft"]["answers"] == []
