"""Each source of an answer links to its article: the public page, else the service's own copy."""
from __future__ import annotations

import re

from faqbot import create_app


def test_every_source_links_to_its_article_at_the_passages_heading(chat, client):
    body = chat("can remedial massage help my immune system?")
    assert body["type"] == "answer" and body["passages"]
    for passage in body["passages"]:
        source = passage["source"]
        assert source["url"].startswith(f"/articles/{source['id']}")
        if source["heading"]:
            anchor = source["url"].split("#", 1)[1]
            page = client.get(source["url"].split("#")[0])
            assert page.status_code == 200 and page.mimetype == "text/html"
            html = page.get_data(as_text=True)
            assert re.search(f'<h2 id="{anchor}">[^<]*</h2>', html), (anchor, source["heading"])
        else:
            assert "#" not in source["url"]


def test_the_article_page_is_the_cleaned_text_with_an_anchor_at_each_heading(client):
    response = client.get("/articles/top-benefits")
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"]  # an HTML page of the service, hardened like the others
    html = response.get_data(as_text=True)
    assert "<h1>Top Benefits of Remedial Massage</h1>" in html
    assert '<h2 id="muscle-recovery">Muscle Recovery</h2>' in html
    assert "accelerate the process of muscle recovery" in html
    assert "Q:" not in html and "Can remedial massage help me recover" not in html  # visitor questions are not text


def test_an_unknown_article_is_a_404(client):
    assert client.get("/articles/no-such-article").status_code == 404


def test_article_text_is_html_escaped_and_a_public_url_wins(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "ours.md").write_text(
        "---\ntitle: Tips <script>alert(1)</script>\n---\n\n## Heat & <b>Ice</b>\n\n"
        "Use a heat pack <img src=x onerror=alert(1)> for sore muscles after massage, and ice for swelling.\n")
    (corpus / "public.md").write_text(
        "---\ntitle: Stretching at Home\nurl: https://clinic.example/blog/stretching\n---\n\n## Before Bed\n\n"
        "Gentle stretching of the hamstrings before bed keeps them supple between massage sessions.\n")
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "d.sqlite3"), "CORPUS_DIR": str(corpus),
                      "SEMANTIC": False})
    client = app.test_client()
    html = client.get("/articles/ours").get_data(as_text=True)
    assert "<script>" not in html and "<img" not in html and "<b>" not in html
    assert "Tips &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '<h2 id="heat-b-ice-b">Heat &amp; &lt;b&gt;Ice&lt;/b&gt;</h2>' in html
    reply = client.post("/api/chat", json={"message": "stretching my hamstrings before bed"}).get_json()
    urls = {p["source"]["id"]: p["source"]["url"] for p in reply["passages"]}
    assert urls["public"] == "https://clinic.example/blog/stretching#before-bed", reply
