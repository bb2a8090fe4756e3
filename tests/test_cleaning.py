from faqbot.knowledge.cleaning import clean_scraped, is_caption, is_heading, normalise_text

RAW = """Understanding Health and Medical Services

\u00ab Back to Home

3 Reasons for Massage

Posted on

Massage is useful.\u00a0 It helps. .

1. Stress Reduction

Massage lowers cortisol. Unlike \u00a0Full Article\u00a0 of massage, it works.

remedial massage therapist

The end of it all.
"""


def test_removes_site_chrome_and_keeps_title():
    article = clean_scraped(RAW)
    assert article.title == "3 Reasons for Massage"
    assert "Back to Home" not in article.body
    assert "Posted on" not in article.body
    assert "Understanding Health" not in article.body


def test_removes_link_text_caption_and_stray_full_stop():
    body = clean_scraped(RAW).body
    assert "Full Article" not in body
    assert "remedial massage therapist" not in body  # stray image caption
    assert "It helps." in body and ". ." not in body
    assert "\u00a0" not in body


def test_marks_headings_without_numbering():
    assert "## Stress Reduction" in clean_scraped(RAW).body


def test_repeated_title_kept_once():
    raw = "My Title\n\nMy Title\n\nSome text here that is a sentence.\n"
    article = clean_scraped(raw)
    assert article.title == "My Title"
    assert "My Title" not in article.body


def test_page_title_above_article_heading_gives_way():
    raw = "Spammy Page Title\n\nSpammy Page Title\n\nThe Real Article Title\n\nBody text goes here.\n"
    assert clean_scraped(raw).title == "The Real Article Title"


def test_no_title_needs_one():
    import pytest
    with pytest.raises(ValueError):
        clean_scraped("Just a paragraph of text that ends with a full stop.\n")
    assert clean_scraped("Just a paragraph.\n", title="Given").title == "Given"


def test_helpers():
    assert is_heading("Better Circulation") and is_heading("How can it help?")
    assert not is_heading("This is a sentence.")
    assert is_caption("remedial massage therapist") and not is_caption("Better Circulation")
    assert normalise_text("a\u00a0 b\r\n") == "a b"


SCRAPE = """What to Expect at Your First Remedial Massage

Your therapist will ask about your health , your injuries and what you want from the session . They check your posture before starting.
During the massage
Relax and let the therapist do the work
"""


def test_a_heading_above_a_short_unpunctuated_paragraph_is_marked():
    body = clean_scraped(SCRAPE).body
    assert body.split("\n\n") == [
        "Your therapist will ask about your health, your injuries and what you want from the session. "
        "They check your posture before starting.",
        "## During the massage",
        "Relax and let the therapist do the work\n",
    ]


def test_stacked_heading_lines_mark_only_the_one_above_the_paragraph():
    body = clean_scraped("Title Here\n\nIntro text of the article, which is long enough.\n\nAftercare\n\n"
                         "Drink water\n\nRest the area for a day or two after a deep session.\n").body
    assert "## Drink water" in body and "## Aftercare" not in body


def test_spacing_before_punctuation_is_mended_but_not_ellipses_or_decimals():
    body = clean_scraped("Title Here\n\nIt helps , mostly ; try it ! Or not ? Sessions take 0.5 to 1 hour ...\n").body
    assert body == "It helps, mostly; try it! Or not? Sessions take 0.5 to 1 hour...\n"
