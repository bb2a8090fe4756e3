"""The meaning layer: hybrid ranking, the semantic-off and broken-model paths, caches, fitted parameters."""
import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from faqbot import create_app
from faqbot.answering import pipeline, retrieval
from faqbot.answering.screening import SENTENCES_READ
from faqbot.answering.semantic import MODEL_DIR, Meaning, load_meaning
from faqbot.answering.understanding import fitted
from faqbot.config import DEFAULTS, Settings
from faqbot.evaluation.fitting import fit_all
from faqbot.knowledge.corpus import load_corpus
from faqbot.knowledge.passages import split_corpus


def top_text(reply) -> str:
    return reply.passages[0]["text"] if reply.type == "answer" and reply.passages else ""


# Fit-set questions (eval/visitors_a.json, eval/gate_fit.json) that share too few words with their answer.
@pytest.mark.parametrize("question, expected", [
    ("remedial vs swedish massage", "leisure or Swedish massage therapy"),
    ("Will it actually make me feel happier?", "feeling happy and relaxed"),
    ("stiff + sore after gym, will massage help", "minimize stiffness and pain"),
])
def test_meaning_finds_what_words_alone_miss(bot, lexical_bot, question, expected):
    assert expected.lower() in top_text(bot.reply(question)).lower()
    assert expected.lower() not in top_text(lexical_bot.reply(question)).lower()


def test_semantic_off_answers_with_bm25_and_the_hand_set_threshold(tmp_path):
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "d.sqlite3"), "SEMANTIC": False})
    bot = app.extensions["faqbot"]
    assert bot.understanding is None and bot.semantic_status == "off"
    assert app.test_client().get("/readyz").get_json()["semantic"] == "off"
    reply = app.test_client().post("/api/chat", json={"message": "Can remedial massage help with back pain?"})
    assert reply.status_code == 200 and reply.get_json()["type"] == "answer"
    trace = bot.reply("Can remedial massage help with back pain?").trace
    assert trace.features == {} and trace.threshold == DEFAULTS["CONFIDENCE_THRESHOLD"]


@pytest.mark.parametrize("damage", ["corrupt", "missing"])
def test_a_broken_model_logs_one_error_and_bm25_keeps_answering(tmp_path, caplog, damage):
    folder = tmp_path / "model"
    shutil.copytree(MODEL_DIR, folder)
    if damage == "corrupt":
        with open(folder / "model.onnx", "r+b") as f:
            f.seek(1000)
            f.write(b"\x00" * 64)
    else:
        (folder / "model.onnx").unlink()
    with caplog.at_level(logging.ERROR):
        app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "d.sqlite3"), "SEMANTIC_MODEL_DIR": str(folder)})
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "BM25 alone" in errors[0].getMessage()
    bot = app.extensions["faqbot"]
    assert bot.understanding is None and bot.semantic_status.startswith("unavailable")
    reply = app.test_client().post("/api/chat", json={"message": "What is remedial massage?"}).get_json()
    assert reply["type"] == "answer"
    ready = app.test_client().get("/readyz")  # still ready: BM25 answers; the body says why meaning is off
    assert ready.status_code == 200 and ready.get_json()["semantic"].startswith("unavailable")


class CountingEmbedder:
    """The shipped model, counting the texts it is asked to embed."""

    def __init__(self, inner, checksum=None):
        self.inner, self.dim, self.texts = inner, inner.dim, []
        self.checksum = checksum or inner.checksum

    def embed(self, texts):
        self.texts.extend(texts)
        return self.inner.embed(texts)


@pytest.fixture(scope="module")
def embedder():
    meaning, status = load_meaning(True, None, None)
    assert status == "ok"
    return meaning.embedder


def test_known_texts_are_embedded_once_and_kept_on_disk(tmp_path, embedder):
    first = CountingEmbedder(embedder)
    vectors = Meaning(first, tmp_path).known(["what is remedial massage", "does it hurt"])
    assert len(first.texts) == 2 and list(tmp_path.glob("embeddings-*.npz"))
    again = CountingEmbedder(embedder)  # a restart: a new process reads the file
    edited = Meaning(again, tmp_path).known(["what is remedial massage", "does it hurt", "a new question"])
    assert again.texts == ["a new question"]  # an edit embeds only what changed
    assert np.array_equal(edited[:2], vectors)  # exactly: a restart answers as before
    other_model = CountingEmbedder(embedder, checksum="0" * 64)  # another model never reads these vectors
    Meaning(other_model, tmp_path).known(["does it hurt"])
    assert other_model.texts == ["does it hurt"]


def test_an_unreadable_cache_is_rebuilt(tmp_path, embedder, caplog):
    Meaning(embedder, tmp_path).known(["hello"])
    next(tmp_path.glob("embeddings-*.npz")).write_bytes(b"not an npz file")
    counting = CountingEmbedder(embedder)
    with caplog.at_level(logging.WARNING):
        Meaning(counting, tmp_path).known(["hello"])
    assert counting.texts == ["hello"] and "unreadable" in caplog.text


def test_a_repeated_message_is_embedded_once(embedder):
    counting = CountingEmbedder(embedder)
    meaning = Meaning(counting)
    a, b = meaning.query("does it help sciatica"), meaning.query("does it help sciatica")
    assert counting.texts == ["does it help sciatica"] and a is b


def test_a_message_s_sentences_are_embedded_in_one_batch_and_cached(embedder):
    counting = CountingEmbedder(embedder)
    calls = []
    counting.embed = lambda texts, real=counting.embed: calls.append(list(texts)) or real(texts)
    meaning = Meaning(counting)
    meaning.query("my back aches")
    vecs = meaning.queries(["my back aches", "it started on Monday", "my back aches"])
    assert calls == [["my back aches"], ["it started on Monday"]]  # only what was not cached, once
    assert np.array_equal(vecs[0], vecs[2]) and np.array_equal(vecs[1], meaning.query("it started on Monday"))
    assert len(calls) == 2 and meaning.queries([]).shape == (0, counting.dim)


def test_every_stage_shares_one_embedding_of_the_message(bot, monkeypatch):
    meaning = bot.understanding.meaning
    asked = []
    monkeypatch.setattr(meaning, "query", lambda text, real=meaning.query: asked.append(text) or real(text))
    bot.reply("Can remedial massage help with back pain?")
    assert asked == ["Can remedial massage help with back pain?"]


def test_a_large_library_compares_only_bm25_s_candidates(bot, monkeypatch):
    monkeypatch.setattr(retrieval, "DENSE_ALL", 5)
    vec = bot.understanding.meaning.query("does it help sciatica")
    sims = bot.retriever.similarities(vec, "does it help sciatica")
    compared = np.flatnonzero(sims > -1)
    assert 0 < len(compared) < len(bot.index)
    full = bot.understanding.index.similarities(vec)
    assert np.allclose(sims[compared], full[compared])
    assert "sciatica" in top_text(bot.reply("does it help sciatica"))


def test_red_flags_by_meaning_name_their_category_and_advice(bot):
    # From eval/safety_fit.json (a fit set): neither a rule nor a concept combination describes it.
    message = ("My grandad's on digoxin, he's been vomiting and says everything looks yellowish. "
               "We think he might have mixed up his pills.")
    assert bot.gate.check(message).urgent is None and bot.concepts.check(message) is None
    reply = bot.reply(message)
    assert reply.type == "urgent" and reply.trace.rule == "urgent: possible overdose or poisoning"
    assert "red flag by meaning" in reply.trace.meaning[0] and "overdose" in reply.trace.meaning[0]


# Our own words: one sentence of a longer message tells the red flag, the rest dilutes it.
LONG_BREATHING = ("Hello, I had a massage with you in spring and it was lovely. My little boy is pulling in hard under "
                  "his ribs with every breath and his lips have gone dusky. Do you see kids on Saturdays?")


def test_a_red_flag_told_in_one_sentence_of_a_longer_message_is_found_by_meaning(bot):
    u = bot.understanding
    assert u.red_flags.find(u.meaning.query(LONG_BREATHING)) is None  # the whole message reads as booking chat
    assert bot.gate.check(LONG_BREATHING).urgent is None and bot.concepts.check(LONG_BREATHING) is None
    reply = bot.reply(LONG_BREATHING)
    assert reply.type == "urgent" and "breathing" in reply.trace.rule
    assert ("in the sentence 'My little boy is pulling in hard under his ribs with every breath and his lips have "
            "gone dusky.'") in reply.trace.meaning[0]
    assert "reply to a helper, about him" in reply.trace.safety[1]  # read in that sentence, not "I had a massage"
    # Told before, and read with the turn after it as the concepts read the turns joined: still urgent.
    # Whose red flag it is comes from the turn that told it: the advice speaks to the parent.
    later, _ = bot.converse([LONG_BREATHING, "It has settled a little now, so can we still come in on Saturday?"])
    assert later.type == "urgent" and "in the sentence" in later.trace.meaning[0]
    assert "reply to a helper, about him" in later.trace.safety[1]


def test_only_sentences_that_affirm_a_red_flag_s_makings_are_read_alone(bot):
    # The model reads "no fever, no bleeding" much as it reads "fever, bleeding": a negated sentence is not
    # read alone, nor is one that names nothing a red flag is made of, nor a message of one sentence.
    assert bot.screen.telling("I'm 31 weeks along. No bleeding, no headaches, and the baby kicks all day. "
                              "Which pregnancy massage do you offer?") == [
        "I'm 31 weeks along.", "Which pregnancy massage do you offer?"]
    assert bot.screen.telling("We loved the last visit. Can I book two sessions? Do you take card?") == []
    assert bot.screen.telling("my chest is tight and my left arm aches") == []
    # A bounded cost: at most SENTENCES_READ, the message's own first, then the turns before it.
    long = " ".join(f"My knee hurt on day {i}." for i in range(20))
    earlier = "My back aches today. My neck aches too."
    assert bot.screen.telling(long, earlier) == [f"My knee hurt on day {i}." for i in range(SENTENCES_READ)]
    assert bot.screen.telling("My knee hurts. My hip aches a bit too.", earlier) == [
        "My knee hurts.", "My hip aches a bit too.", "My back aches today.", "My neck aches too."]


def test_a_sentence_alone_must_pass_the_stricter_fitted_threshold(bot):
    flags = bot.understanding.red_flags
    assert flags.params["sentence_threshold"] > flags.params["threshold"]
    assert flags.find_in(bot.screen.telling(LONG_BREATHING)) is not None
    flags.params, saved = dict(flags.params, sentence_threshold=1.0), flags.params
    try:
        assert flags.find_in(bot.screen.telling(LONG_BREATHING)) is None
    finally:
        flags.params = saved


@pytest.mark.parametrize("message, intent", [("ok cheers, c ya", "thanks"),
                                             ("r u a real person or a bot??", "about the bot"),
                                             # eval/gate_fit2.json (a fit set): none of them is an example
                                             ("great answer, very clear", "compliment"),
                                             ("cya l8r", "goodbye"),
                                             ("Is this an automated service, or is somebody actually reading these?",
                                              "about the bot")])
def test_small_talk_by_meaning(bot, message, intent):
    reply = bot.reply(message)  # from eval/visitors_a.json (the fit set); no pattern matches it whole
    assert reply.type == "smalltalk" and reply.trace.rule == f"smalltalk: {intent}"


@pytest.mark.parametrize("message, intent", [("toodle-oo for now", "goodbye"), ("adieu, my friend", "goodbye"),
                                             ("I would like to know if a computer is replying to me", "about the bot")])
def test_small_talk_the_examples_are_not_near_enough_for_is_read_by_the_fitted_model(bot, message, intent):
    # Written for this test: no pattern matches them, and no example is nearer than every passage by
    # the margin that keeps every question of the fit files out (all three fell back before).
    reply = bot.reply(message)
    assert reply.type == "smalltalk" and reply.trace.rule == f"smalltalk: {intent}"


@pytest.mark.parametrize("message, intent", [("rubbish bot", "complaint"), ("what a pathetic answer", "complaint"),
                                             ("you're not very clever, are you", "complaint"),
                                             ("that has sorted me right out", "thanks"),
                                             ("bots like you are normally hopeless but you were brilliant", "compliment")])
def test_feedback_by_meaning_takes_its_tone_from_its_words(bot, message, intent):
    # By meaning "rubbish bot" is nearest to "good bot" and "sorted me out" to "that didn't help":
    # the reply thanked a complaint and apologised to a thanks.
    reply = bot.reply(message)
    assert reply.type == "smalltalk" and reply.trace.rule == f"smalltalk: {intent}"


@pytest.mark.parametrize("message", ["hjkl asdfg zxcvbn", "jjjjj kkkk", "ghjk fdsa"])
def test_a_keyboard_mash_is_no_small_talk(bot, message):
    # By meaning it reads as anything (these read as "goodbye" and "greeting"): small talk needs a word.
    assert bot.reply(message).type == "fallback"


def test_a_question_about_the_last_answer_is_a_follow_up_not_small_talk(bot):
    # It names nothing of its own, so by meaning it is near the small-talk examples (this one read as a compliment).
    _, turns = bot.converse(["what does a remedial massage session involve?"])
    reply, _ = bot.converse(["can you put that more simply please"], turns)
    assert reply.type != "smalltalk"


def test_the_shipped_parameters_are_what_faqbot_fit_produces(tmp_path):
    """fitted.json is data from `faqbot fit` on the named fit sets, not numbers set by hand."""
    shipped = fitted()
    settings = Settings.from_mapping(DEFAULTS)
    passages = split_corpus(load_corpus(settings.CORPUS_DIR)[0])
    meaning, _ = load_meaning(True, None, None)
    files = [Path(f"eval/{name}") for name in shipped["fitted"]["on"]]
    safety = [Path(f"eval/{name}") for name in shipped["fitted"]["safety"]]
    chat = [Path(f"eval/{name}") for name in shipped["fitted"]["smalltalk"]]
    refit = fit_all(lambda p: pipeline.Bot(settings, passages, meaning=meaning, params=p), files, safety, out=tmp_path,
                    smalltalk_files=chat)
    assert np.allclose(refit["gate"]["weights"], shipped["gate"]["weights"], atol=1e-4)
    for part in ("safety", "gate"):
        assert refit[part]["threshold"] == pytest.approx(shipped[part]["threshold"], abs=1e-4)
    assert refit["safety"]["k"] == shipped["safety"]["k"]
    assert refit["safety"]["cross_validated"] == shipped["safety"]["cross_validated"]
    assert refit["safety"]["sentence_threshold"] == pytest.approx(shipped["safety"]["sentence_threshold"], abs=1e-4)
    assert refit["safety"]["sentences_fitted"] == shipped["safety"]["sentences_fitted"]
    assert refit["smalltalk_min"] == shipped["smalltalk_min"] and refit["topic_min"] == shipped["topic_min"]
    assert np.allclose(refit["smalltalk"]["weights"], shipped["smalltalk"]["weights"], atol=1e-4)
    assert refit["smalltalk"]["threshold"] == pytest.approx(shipped["smalltalk"]["threshold"], abs=1e-4)
    assert refit["smalltalk"]["cross_validated"] == shipped["smalltalk"]["cross_validated"]
    bank = json.loads((tmp_path / "safety_bank.json").read_text())
    assert bank["examples"] == json.loads((MODEL_DIR.parent / "safety_bank.json").read_text())["examples"]
    assert not {"visitors_b.json", "visitors_c.json", "safety_scored.json", "safety_scored2.json", "safety_scored3.json",
                "safety_scored4.json",
                "conversations.json", "conversations2.json", "adversarial.json", "smalltalk_scored.json"} & {
        *shipped["fitted"]["on"], *shipped["fitted"]["safety"], *shipped["fitted"]["smalltalk"]}  # never fitted on a scored set


def test_a_follow_up_that_names_no_symptom_costs_one_embedding(bot, monkeypatch):
    # The safety screen reads the last turns together by meaning only when the new message says
    # something a red flag is made of; a plain follow-up pays for its own embedding alone.
    embedder = bot.understanding.meaning.embedder
    embedded = []
    real = embedder.embed
    monkeypatch.setattr(embedder, "embed", lambda texts: (embedded.extend(texts), real(texts))[1])
    _, turns = bot.converse(["what does a remedial therapist do in the first session, roughly?"])
    embedded.clear()
    bot.converse(["and how many sessions would that usually take, roughly?"], turns)
    assert embedded == ["and how many sessions would that usually take, roughly?"]
    embedded.clear()
    reply, _ = bot.converse(["my calf has been aching since the long flight home, roughly", "now it's hot and swollen"])
    assert reply.type == "urgent"


def test_a_turn_keeps_its_vector_so_no_message_is_embedded_twice(embedder):
    meaning = Meaning(CountingEmbedder(embedder))
    vec = meaning.query("my calf has ached since the flight")
    packed = meaning.pack(vec)
    other_worker = Meaning(CountingEmbedder(embedder))  # a later message may reach another process
    read = other_worker.turn_vector("my calf has ached since the flight", packed)
    assert other_worker.embedder.texts == [] and read.dtype == np.float32 and float(read @ vec) > 0.9999
    for stale in (None, "", packed[:40] + "*" + packed[41:], packed[:-8]):  # saved before, damaged, cut short
        again = Meaning(CountingEmbedder(embedder))
        assert float(again.turn_vector("my calf has ached since the flight", stale) @ vec) > 0.9999
        assert again.embedder.texts == ["my calf has ached since the flight"]
    another_model = Meaning(CountingEmbedder(embedder, checksum="0" * 64))  # never reads another model's vectors
    another_model.turn_vector("my calf has ached since the flight", packed)
    assert another_model.embedder.texts == ["my calf has ached since the flight"]


def test_the_safety_window_reads_saved_vectors_not_the_model(bot, monkeypatch):
    # Both messages name what red flags are made of, so the screen reads them together by meaning;
    # each is still embedded once, when it is asked, even by a process that never saw the first.
    meaning = bot.understanding.meaning
    embedded = []
    real = meaning.embedder.embed
    monkeypatch.setattr(meaning.embedder, "embed", lambda texts: (embedded.extend(texts), real(texts))[1])
    first, second = "my lower back is sore after the gardening", "and my leg aches a bit as well"
    assert bot.screen.concepts.tag(first) and bot.screen.concepts.tag(second)
    monkeypatch.setattr(meaning, "_queries", type(meaning._queries)())
    _, turns = bot.converse([first])
    assert turns[-1].vector and embedded == [first]
    meaning._queries.clear()
    embedded.clear()
    reply, _ = bot.converse([second], turns)
    assert embedded == [second] and reply.type != "urgent"


def test_a_red_flag_by_meaning_is_nearer_red_flags_than_harmless_lookalikes(bot):
    u = bot.understanding
    threshold = u.params["safety"]["threshold"]
    score = lambda text: u.red_flags.score(u.meaning.query(text))  # noqa: E731
    # The first from eval/safety_fit.json (a fit set); the lookalikes say the same words harmlessly.
    assert score("My grandad's on digoxin, he's been vomiting and says everything looks yellowish. "
                 "We think he might have mixed up his pills.") >= threshold
    for calm in ("my legs are killing me after leg day, can you loosen them up?",
                 "I had a DVT five years ago, all treated and fine now. Is massage ok?",
                 "What is remedial massage?"):
        assert score(calm) < threshold, calm


def test_nearness_is_the_mean_of_the_k_nearest():
    from faqbot.answering.redflags import nearness
    assert nearness(np.array([0.1, 0.9, 0.5, 0.7]), 2) == pytest.approx(0.8)
    assert nearness(np.array([0.3, 0.5]), 5) == pytest.approx(0.4) and nearness(np.array([]), 3) == 0.0
    # row by row, as `faqbot fit` scores a held-out set
    assert nearness(np.array([[0.1, 0.9, 0.5, 0.7], [0.2, 0.4, 0.0, 0.6]]), 2) == pytest.approx([0.8, 0.5])


def test_the_harmless_screen_decides_exactly_as_the_whole_bank(bot):
    # Most messages are judged on the red examples and the screen's few harmless ones; the decision
    # (and, for a red flag, its score) must be the whole bank's for every kind of message.
    u = bot.understanding
    threshold = u.params["safety"]["threshold"]
    assert 0 < len(u.red_flags.calm_screen) < len(u.red_flags.calm)
    messages = [
        "my husband's face has dropped on one side and he can't lift his arm",
        "crushing pain in my chest going down my left arm, sweating",
        "I took the whole packet of my sleeping tablets an hour ago",
        "she fell off the trampoline and her forearm has a new bend in it",
        "I don't see the point of going on any more, I've written letters to my kids",
        "do you do gift cards", "how long is a session", "my shoulders are tight from typing all day",
        "can massage help tennis elbow", "thanks, that helps", "is it ok to have a massage when pregnant",
        "I had chest pain last year, the cardiologist said my heart is fine",
    ]
    vectors = [u.meaning.query(m) for m in messages]
    vectors.append(sum(vectors[:2]) / np.linalg.norm(sum(vectors[:2])))  # a window: two turns together
    flagged = 0
    for v in vectors:
        exact = u.red_flags.score(v)
        found = u.red_flags.find(v)
        assert (found is not None) == (exact >= threshold)
        if found is not None:
            flagged += 1
            assert found.score == pytest.approx(exact, abs=1e-6)
        assert u.red_flags.find(v) == found  # the second time from the cache, the same
    assert 0 < flagged < len(vectors)
    # New parameters judge afresh, not from what the cache decided with the old ones.
    flags, saved = u.red_flags, u.red_flags.params
    try:
        flags.params = dict(saved, threshold=10.0)
        assert all(flags.find(v) is None for v in vectors)
    finally:
        flags.params = saved
    assert sum(flags.find(v) is not None for v in vectors) == flagged


def test_hubs_are_the_rows_most_often_among_the_others_nearest():
    from faqbot.answering.redflags import hubs
    rng = np.random.default_rng(7)
    bank = rng.standard_normal((300, 16)).astype(np.float32)
    bank /= np.linalg.norm(bank, axis=1, keepdims=True)
    sims = bank @ bank.T
    np.fill_diagonal(sims, -np.inf)
    counts = np.bincount(np.argsort(sims, axis=1)[:, -3:].ravel(), minlength=len(bank))
    order = hubs(bank, 3, 40)
    assert counts[order[0]] == counts.max() and len(order) == 40
    assert sorted(counts[order], reverse=True) == list(counts[order])
    assert counts[order].min() >= np.sort(counts)[-40]  # the 40 most often, worked out a block at a time
    assert list(hubs(bank[:30], 3, 40)) == list(range(30))  # a bank no larger than the screen is all of it


def test_numpy_gets_one_blas_thread_unless_told_otherwise():
    # A web worker's threads are the parallelism; BLAS threads of its own spun against them.
    import subprocess
    import sys
    code = "import faqbot, os; print(os.environ['OPENBLAS_NUM_THREADS'], os.environ['OMP_NUM_THREADS'])"
    env = {k: v for k, v in __import__("os").environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          check=True).stdout.split() == ["1", "1"]
    told = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**env, "OPENBLAS_NUM_THREADS": "2"}, check=True).stdout.split()
    assert told == ["2", "1"]
