"""The demo clinic page advertises only what the bot can answer from the articles."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

DEMO = (Path(__file__).resolve().parent.parent / "web" / "demo.html").read_text()
CARDS = re.findall(r'<div class="card"><h3>([^<]+)</h3><p>([^<]+)</p></div>', DEMO)
HERO = re.search(r'<div class="hero">.*?<p>([^<]+)</p>', DEMO, re.S).group(1)


def test_the_page_has_treatment_cards():
    assert len(CARDS) >= 3


@pytest.mark.parametrize("title, text", CARDS)
def test_every_treatment_advertised_is_answered_from_the_articles(bot, title, text):
    for question in (title, text):
        reply = bot.reply(question)
        assert reply.type == "answer" and reply.confidence >= 0.6, (question, reply.type, reply.confidence)


def test_the_hero_promises_only_what_the_articles_cover(bot):
    reply = bot.reply(HERO)
    assert reply.type == "answer" and reply.confidence >= 0.6, (HERO, reply.type, reply.confidence)


@pytest.mark.parametrize("service", ["Pregnancy massage", "Myofascial release", "Sports massage", "Hot stone"])
def test_services_the_articles_do_not_cover_are_not_advertised(service):
    assert service.lower() not in DEMO.lower()
