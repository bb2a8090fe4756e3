from collections import Counter

from faqbot.analysis import Analyzer, default_analyzer, normalise, tokenize
from faqbot.spelling import Speller, edit_distance


def test_normalise_folds_case_accents_and_quotes():
    assert normalise("Pétrissage’s") == "petrissage's"
    assert tokenize("The THERAPIST’s hands, e-mail 30-minute") == ["the", "therapist", "hands", "e", "mail", "30", "minute"]


def test_same_analysis_for_documents_and_queries():
    a = default_analyzer()
    assert a.analyze("Relaxing massages") == a.analyze("relaxing massage")
    assert a.analyze("What is it?") == []  # stopwords only
    assert a.analyze("I'm sure they don't") == ["sure"]


def test_stemming_can_be_switched_off():
    assert default_analyzer(True).analyze("injuries") == ["injuri"]
    assert default_analyzer(False).analyze("injuries") == ["injuries"]


def test_lay_synonyms_single_and_phrase():
    a = default_analyzer()
    assert a.analyze("anxious") == a.analyze("anxiety")
    assert a.analyze("sore") == a.analyze("pain")
    assert a.analyze("pins and needles") == a.analyze("tingling")
    assert a.analyze("my GP") == a.analyze("doctor")


def test_synonym_rules_match_inflections_and_expansions_keep_the_word():
    a = Analyzer({"a"}, [("ache", "pain"), ("knee", "knee joint")])
    assert a.analyze("aching knees") == ["pain", "knee", "joint"]


def test_terms_remember_their_surface_words():
    terms = default_analyzer().terms("sore shoulders")
    assert [(t.stem, t.surface) for t in terms] == [("pain", "sore"), ("shoulder", "shoulders")]


def test_speller_corrects_typos_to_corpus_words():
    s = Speller(Counter({"sciatica": 3, "arthritis": 5, "posture": 4, "alignment": 2, "knew": 1}))
    assert s.correct("siatica") == "sciatica"
    assert s.correct("arthritus") == "arthritis"
    assert s.correct("posure") == "posture"
    assert s.correct("allignment") == "alignment"


def test_speller_leaves_real_and_short_words_alone():
    s = Speller(Counter({"knew": 1, "need": 2, "massage": 9}))
    assert s.correct("knee") == "knee"  # a real word, even though "knew" is one edit away
    assert s.correct("kne") == "kne"  # too short to guess
    assert s.correct("zzzzzzzz") == "zzzzzzzz"


def test_edit_distance_counts_transpositions_once():
    assert edit_distance("massgae", "massage", 2) == 1
    assert edit_distance("abc", "xyz", 1) == 2  # gave up above the limit


def test_nltk_is_imported_without_scipy_stats():
    import subprocess
    import sys
    code = ("import sys, faqbot.api; from faqbot.analysis import SnowballStemmer; "
            "assert 'scipy.stats' not in sys.modules, 'scipy.stats imported'; "
            "assert SnowballStemmer.__module__ == 'nltk.stem.snowball'; "
            "import scipy.stats, nltk; assert nltk.stem.SnowballStemmer is SnowballStemmer")
    subprocess.run([sys.executable, "-c", code], check=True)
