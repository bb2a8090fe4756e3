import numpy as np
import pytest

from faqbot.answering.analysis import default_analyzer
from faqbot.answering import scoring
from faqbot.answering.index import Index
from faqbot.knowledge.passages import Passage


def passages(*texts):
    return [Passage(f"d#{i}", "d", "", None, t) for i, t in enumerate(texts)]


CORPUS = passages("massage helps sciatica", "massage helps posture", "massage eases stress",
                  "massage for athletes")


def test_common_terms_keep_positive_idf_with_plus():
    index = Index(CORPUS, default_analyzer(), "plus")
    assert index.idf("massag") > 0
    hits = index.search({"massag": 1.0, "sciatica": 1.0})
    assert hits[0].passage.id == "d#0"


def test_okapi_floors_common_terms_which_is_why_we_do_not_use_it():
    idf = scoring.idf_okapi(np.array([3.0, 1.0, 1.0, 1.0]), 4, scoring.Params())
    assert idf[0] <= 0.25 * idf.max()


def test_unknown_variant_lists_the_valid_ones():
    with pytest.raises(ValueError, match="l', 'okapi', 'plus"):
        Index(CORPUS, default_analyzer(), "bm42")


def test_empty_index_and_query():
    with pytest.raises(ValueError):
        Index([], default_analyzer())
    assert Index(CORPUS, default_analyzer()).search({}) == []


def test_contributions_explain_the_score():
    hit = Index(CORPUS, default_analyzer()).search({"sciatica": 1.0, "massag": 0.5})[0]
    assert set(hit.contributions) == {"sciatica", "massag"}
    assert hit.score == pytest.approx(sum(hit.contributions.values()), rel=1e-3)


def test_visitor_question_lifts_its_passage():
    ps = passages("deeper stronger touch with kneading", "pain relief for chronic pain")
    ps[0] = Passage("d#0", "d", "", None, ps[0].text, ("Does it hurt?",))
    hits = Index(ps, default_analyzer()).search({"pain": 1.0})
    assert hits[0].passage.id == "d#0" and hits[0].variant == 1.0


def test_a_follow_up_restates_a_visitor_question_with_its_borrowed_terms():
    ps = passages("massage can ease recurring migraines", "we treat many conditions")
    ps[0] = Passage("d#0", "d", "", None, ps[0].text, ("Can you treat migraines?",))
    index = Index(ps, default_analyzer())
    own = index.variant_similarities({"treat": 1.0}, [0])[0]
    followed = index.variant_similarities({"treat": 1.0, "migrain": 0.5}, [0])[0]  # "I get migraines" / "can you treat that?"
    assert followed == 1.0 > own


def test_visitor_questions_of_only_zero_idf_terms_match_nothing():
    ps = passages("massage helps", "massage helps too")
    ps[0] = Passage("d#0", "d", "", None, ps[0].text, ("does massage help?",))
    index = Index(ps, default_analyzer(), "okapi")  # both terms in every passage: IDF 0
    assert index.variant_similarities({"massag": 1.0, "help": 1.0}, [0, 1]) == {0: 0.0, 1: 0.0}


def test_builds_the_shipped_corpus_quickly(bot):
    import time
    started = time.perf_counter()
    Index(bot.index.passages, bot.analyzer)
    assert time.perf_counter() - started < 1.0


def test_vocabulary_counts_article_words_then_visitor_question_words_once(bot):
    from collections import Counter

    from faqbot.knowledge.text import tokenize

    passages = bot.index.passages
    articles = Counter(w for p in passages for w in tokenize(" ".join([p.doc_title, p.heading or "", p.text])))
    questions = Counter(w for p in passages for w in tokenize(" ".join(p.questions)))
    for boost in (0, 2):
        index = Index(passages, bot.analyzer, variant_boost=boost)
        assert list(index.vocabulary.items()) == list((articles + questions).items())
