from collections import Counter

from faqbot.answering.analysis import Analyzer, default_analyzer
from faqbot.knowledge.text import normalise, tokenize
from faqbot.answering.spelling import Speller, edit_distance


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


def test_idioms_drop_without_taking_real_words_with_them():
    a = default_analyzer()
    assert "back" not in a.analyze("I was in a car accident a few months back")
    assert "back" in a.analyze("I get back pain when I sit")  # not "get back" (to sport)
    assert "back" in a.analyze("I've had it for years. Back pain is the worst")  # phrases match across sentences
    assert a.analyze("I'm sick of my sore neck") == a.analyze("my sore neck")
    assert a.analyze("is massage ok while fasting") != a.analyze("is massage ok while quick")


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
    code = ("import sys, faqbot.webapp.api; from faqbot.answering.analysis import SnowballStemmer; "
            "assert 'scipy.stats' not in sys.modules, 'scipy.stats imported'; "
            "assert SnowballStemmer.__module__ == 'nltk.stem.snowball'; "
            "import scipy.stats, nltk; assert nltk.stem.SnowballStemmer is SnowballStemmer")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_batch_analysis_gives_what_analyze_gives():
    import random

    a = default_analyzer()
    words = ("pins and needles hurt my I bad back firm pressure range of motion nerve pain pinched blood flow "
             "rheumatoid arthritis pulled muscle sore Knee's IT'S don't ab'cd'ef x'y3 ' '' café Pétrissage’s "
             "naïve a\x00b it's_ — ß ﬁne Ⅻ ² \t 's O'Neil's massage relaxing stress the a is")
    pool = words.split(" ")
    rng = random.Random(3)
    sequences = [tuple(" ".join(rng.choice(pool) for _ in range(rng.randint(0, 12))) for _ in range(rng.randint(1, 3)))
                 for _ in range(500)]
    for analyzer in (a, Analyzer({"a"}, [("pain", "ache"), ("bad back", "lower back"), ("back pain", "")])):
        batch = analyzer.analyze_batch(sequences, chunk=7)  # blocks end mid-way through phrases, too
        got = [Counter() for _ in sequences]
        for term, seq in zip(batch.term_ids.tolist(), batch.seqs.tolist()):
            got[seq][batch.terms[term]] += 1
        assert got == [Counter(analyzer.analyze(" ".join(seq))) for seq in sequences]
        texts = [text for seq in sequences for text in seq]
        assert [batch.words[i] for i in batch.word_ids.tolist()] == [w for text in texts for w in tokenize(text)]
        assert batch.lengths.tolist() == [len(tokenize(text)) for text in texts]


def test_compact_english_word_list_answers_as_pyspellchecker_does():
    from spellchecker import SpellChecker

    from faqbot.answering.spelling import english_frequency, english_words

    reference = SpellChecker(distance=1).word_frequency
    sample = list(reference.dictionary)[::97] + ["knee", "Knee", "siatica", "zzzzq", ""]
    for word in sample:
        assert (word in english_words()) == (word in reference)
        assert english_frequency(word) == reference.dictionary.get(word, 0) / reference.total_words
    assert english_words().frequencies(sample).tolist() == [english_frequency(w) for w in sample]
