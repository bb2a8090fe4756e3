"""The answer pipeline: validate -> safety -> small talk -> retrieve -> confidence -> compose."""
from __future__ import annotations

from dataclasses import dataclass, field

from . import compose
from .compose import call_actions
from .addressee import helper_advice
from .concepts import default_concepts
from .analysis import Analyzer, default_analyzer
from ..config import Settings
from .carrying import Carrying, readable_share
from .cautions import caution_text
from .conversation import Turn
from .history import History
from .index import Hit, Index
from ..knowledge.content import CLINIC_DOC
from ..knowledge.passages import Passage
from .retrieval import Retriever
from .safety import SafetyGate, SafetyResult, default_gate
from .screening import Screen
from .smalltalk import SmallTalk, clinic_topic, clinic_topics, default_smalltalk, feedback_tone
from .semantic import Meaning
from .spelling import Speller
from .turns import TurnDecision, decide
from .understanding import Understanding
from .wording import Wording

@dataclass
class Trace:
    """Why the bot answered as it did (for staff and `faqbot ask --explain`)."""

    corrections: dict[str, str] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)  # everyday words unknown to the corpus
    own_terms: list[str] = field(default_factory=list)
    weights: dict[str, float] = field(default_factory=dict)
    follow_up: bool = False  # the earlier topic was borrowed (turn.borrows)
    turn: TurnDecision | None = None  # how the turn relates to the conversation, and why
    safety: list[str] = field(default_factory=list)
    rule: str | None = None  # the safety, small-talk or clinic-topic rule that decided
    confidence: float = 0.0
    threshold: float = 0.0
    decision: str = ""
    hits: list[dict] = field(default_factory=list)
    meaning: list[str] = field(default_factory=list)  # what the semantic layer saw and decided
    features: dict[str, float] = field(default_factory=dict)  # the answer gate's evidence
    carrying: list[Carrying] = field(default_factory=list)  # the words that carry the question, and their cover
    coverage: str = ""  # what the top passage leaves uncovered of them ("": the gate was not reached)
    lexical_share: float = 1.0  # the share of their weight BM25 can read: its part of the ranking is scaled by it


@dataclass
class Reply:
    type: str  # answer | fallback | urgent | smalltalk
    answer: str
    passages: list[dict]
    disclaimer: str
    suggestions: list[str]
    caution: str | None = None
    confidence: float = 0.0
    weights: dict[str, float] = field(default_factory=dict)  # effective terms, for context
    top_passage: str | None = None
    trace: Trace = field(default_factory=Trace)
    actions: list[dict] = field(default_factory=list)  # call buttons: {"label", "tel"}
    vector: str | None = None  # the message's vector, packed for its turn (not in the API's reply)


def passage_json(hit: Hit) -> dict:
    """Describe a hit for the API."""
    p = hit.passage
    return {
        "id": p.id,
        "text": p.text,
        "source": {"id": p.doc_id, "title": p.doc_title, "heading": p.heading, "url": p.url},
        "score": round(hit.score, 4),
    }


class Bot(Wording, History):
    """Answer one message, given the recent turns of its conversation."""

    def __init__(self, settings: Settings, passages: list[Passage], analyzer: Analyzer | None = None,
                 gate: SafetyGate | None = None, smalltalk: SmallTalk | None = None,
                 meaning: Meaning | None = None, params: dict | None = None, progress=None):
        self.settings = settings
        self.analyzer = analyzer or default_analyzer(settings.STEMMING)
        self.index = Index(passages, self.analyzer, settings.BM25_VARIANT, settings.BM25_K1, settings.BM25_B,
                           variant_boost=settings.VARIANT_BOOST, variant_weight=settings.VARIANT_WEIGHT)
        known = set(self.analyzer.stopwords) | {w for k in self.analyzer.rules for w in k}
        # Words our synonym list expands ("hamstring" => hamstring muscle) are the project's own
        # vocabulary: unseen in the articles, they are still no sign of an off-topic question.
        self.mapped = {t for target in self.analyzer.rules.values() for t in target}
        self.speller = Speller(self.index.vocabulary, known)
        self.gate = gate or default_gate()
        self.concepts = default_concepts()
        self.smalltalk = smalltalk or default_smalltalk()
        # Meaning beside words: None when the model is off or could not load (BM25 alone).
        # progress(done, total) hears how the passages' embedding goes (a large library takes a while).
        self.understanding = Understanding(passages, meaning, params, progress) if meaning is not None else None
        self._rows = {p.id: i for i, p in enumerate(passages)}
        self.screen = Screen(self.gate, self.concepts, self.understanding)
        self.retriever = Retriever(settings, self.index, self.analyzer, self.understanding)
        self.semantic_status = "ok" if meaning is not None else "off"

    def fill(self, text: str) -> str:
        """Fill the clinic's details into a configured text."""
        s = self.settings
        contact = f"please contact the clinic on {s.CLINIC_PHONE} or {s.CLINIC_EMAIL}"
        if s.CLINIC_BOOKING_URL:
            contact += f", or book online at {s.CLINIC_BOOKING_URL}"
        return text.format(clinic=s.CLINIC_NAME, contact=contact, emergency=s.EMERGENCY_NUMBER,
                           crisis=s.CRISIS_LINES)

    def reply(self, message: str, history: list[Turn] | None = None) -> Reply:
        """Answer a validated message."""
        u = self.understanding
        vec = u.meaning.query(message) if u else None  # the one embedding every stage shares
        reply = self._reply(message, history, vec)
        if vec is not None:  # saved with the turn: a later message's safety window reads it, not the model
            reply.vector = u.meaning.pack(vec)
        return reply

    def _reply(self, message: str, history: list[Turn] | None, vec) -> Reply:
        s, u = self.settings, self.understanding
        trace = Trace(threshold=s.CONFIDENCE_THRESHOLD)
        # Once: the safety screen needs it too.
        said = self.smalltalk.match(message)
        intent = said or self.smalltalk.with_chatter(message, self.chatter)
        # Only a message that is small talk through and through leaves an urgent turn out of its window:
        # "thanks, bye" must not bring the advice back, "hang on, now his arm is weak too" must.
        safety = self.safety(message, history, vec, trace, small_talk=said is not None)
        if safety.urgent is not None:
            trace.rule, trace.decision = f"urgent: {safety.urgent.name}", "urgent"
            advice = helper_advice(safety.urgent, safety.about)  # to the visitor, or to whoever helps the person
            # A call button for each number the advice names.
            said = [text for key, text in (("{emergency}", s.EMERGENCY_NUMBER), ("{crisis}", s.CRISIS_LINES))
                    if key in advice]
            return Reply("urgent", self.fill(advice), [], s.DISCLAIMER, [], trace=trace, actions=call_actions(*said))
        sims = self.retriever.similarities(vec, message) if u else None
        if intent is None and u:
            near = u.small_talk(vec, float(sims.max()), len(message.split()),
                                lambda: self.chatter(message) and self.says_words(message)
                                and not self.asks_back(message, history))
            if near is not None:
                trace.meaning.append(f"small talk by meaning: {near.label} ({near.similarity:.2f}, {near.example!r})")
                if (name := feedback_tone(near.label, message)) != near.label:
                    trace.meaning.append(f"its words make it {name}, not {near.label}")
                intent = next((i for i in self.smalltalk.intents if i.name == name), None)
        if intent is not None:
            trace.rule, trace.decision = f"smalltalk: {intent.name}", "smalltalk"
            trace.turn = decide(message, {}, history or [], small_talk=True)
            return Reply("smalltalk", self.fill(intent.reply), [], s.DISCLAIMER, list(s.STARTERS[:3]), trace=trace)
        question = self.smalltalk.strip_greeting(message)
        caution = caution_text(safety.cautions, safety.said)
        corrected = self.correct(question, trace)
        analysed = self.analyzer.terms(corrected)  # once: its terms, carrying words and topic words
        own = self.query_terms(analysed, trace)
        weights = {t: 1.0 for t in own}
        if u and trace.corrections:  # the model reads "posure and allignment" as noise: give it the words meant
            vec = u.meaning.query(corrected)
            sims = self.retriever.similarities(vec, weights)
        turn = self.read_turn(question, analysed, own, history, trace)  # the history is used only as it says
        weights, sims = self.with_history(turn, weights, vec, sims, history)
        trace.weights = weights
        topic = clinic_topic(question)
        if topic is not None and topic.names is not None and (known := self.articles_name(question, topic.names)):
            trace.meaning.append(f"clinic topic {topic.name} set aside: the articles speak of {known!r}")
            topic = None
        if topic is None and u:
            near = u.intent(u.topics, vec, float(sims.max()), "topic_min")
            if near is not None:
                trace.meaning.append(f"clinic topic by meaning: {near.label} ({near.similarity:.2f}, {near.example!r})")
                topic = next((t for t in clinic_topics() if t.name == near.label), None)
        trace.lexical_share = share = readable_share(trace.carrying, self.index)  # "chill out": BM25 reads "help"
        found = self.break_ties(turn, self.retriever.search(weights, sims, share), history, trace)  # traced even when a clinic topic wins
        if topic is not None and found and found[0].passage.doc_id == CLINIC_DOC:
            # Staff wrote an answer for this: it beats the fixed "please contact the clinic" (if the gate agrees).
            trace.meaning.append(f"clinic answer {found[0].passage.id} instead of the topic {topic.name}")
            topic = None
        hits = found if topic is None else []
        described = [passage_json(h) for h in found]  # once, for the trace and the reply alike
        trace.hits = [{**d, "contributions": h.contributions} for d, h in zip(described, found)]
        answered = bool(hits) and self.gate_passes(weights, hits[0], sims, vec, trace)
        if topic is not None or not answered:
            trace.rule = f"clinic topic: {topic.name}" if topic else None
            trace.decision = "fallback"
            return self.fallback(question, topic.reply if topic else None, caution, weights, trace)
        trace.decision = "answer"
        hits, again = self.not_again(turn, hits, trace)
        top = hits[0]
        if top is not found[0]:  # the passage the answer quotes is listed first
            described = [passage_json(h) for h in hits]
        if top.passage.doc_id == CLINIC_DOC:  # staff's own answer, short by its limit: said whole
            answer = f"{again}{top.passage.text}"
            described = described[:1]  # its source is the clinic: articles below it would read as support
        else:
            text = compose.best_sentences(top, self.index, self.analyzer)
            # Attributed, so the articles' claims read as theirs, not as the bot's promise.
            answer = f"{again}Our article \u201c{top.passage.doc_title}\u201d says: {text}"
        if caution:
            answer = f"{caution}\n\n{answer}"
        return Reply(
            "answer", answer, described, s.DISCLAIMER,
            compose.suggestions(hits, self.index, question, fallback=s.STARTERS),
            caution=caution, confidence=trace.confidence, weights=weights,
            top_passage=top.passage.id, trace=trace,
        )

    def safety(self, message: str, history: list[Turn] | None, vec, trace: Trace,
               small_talk: bool = False) -> SafetyResult:
        """Screen a message (and the last turns) with the three safety layers; note what fired."""
        result, notes = self.screen.check(message, history, vec, small_talk)
        trace.meaning.extend(notes)
        trace.safety = [*result.matched, *([str(result.about)] if result.about else [])]  # and whom the reply speaks to
        return result

    def gate_passes(self, weights: dict[str, float], top: Hit, sims, vec, trace: Trace) -> bool:
        """Decide whether the top passage answers the message: a fitted model, else BM25's confidence."""
        lexical = self.confidence(weights, top) if weights else 0.0
        self.coverage(top, trace)
        u = self.understanding
        probability = None
        if u is not None:
            row = self._rows[top.passage.id]
            trace.features = {k: round(v, 4) for k, v in u.features(lexical, sims, row, vec).items()}
            probability = u.answer_probability(trace.features)
        if probability is None:
            trace.confidence = lexical
            return lexical >= self.settings.CONFIDENCE_THRESHOLD
        trace.confidence, trace.threshold = round(probability, 4), u.gate_threshold
        # Words alone convincing enough answer as they always did; meaning adds what they miss.
        return probability >= u.gate_threshold or lexical >= self.settings.CONFIDENCE_THRESHOLD

    def converse(self, messages: list[str], history: list[Turn] | None = None) -> tuple[Reply, list[Turn]]:
        """Answer messages in turn within one conversation; return the last reply and the turns."""
        turns = list(history or [])
        reply = None
        for message in messages:
            reply = self.reply(message, turns)
            turns.append(Turn(f"turn-{len(turns)}", message, reply.type, reply.weights, reply.top_passage, reply.vector))
        return reply, turns

    def fallback(self, question: str, why: str | None, caution: str | None,
                 weights: dict[str, float], trace: Trace) -> Reply:
        """Say plainly that the articles don't answer this, and point to the clinic."""
        s = self.settings
        opening = f"Sorry, {why} here." if why else \
            "Sorry, I couldn't find an answer to that in our articles."
        text = self.fill(f"{opening} For that, {{contact}}.")
        if caution:
            text = f"{caution}\n\n{text}"
        return Reply("fallback", text, [], s.DISCLAIMER, list(s.STARTERS[:3]), caution=caution,
                     confidence=trace.confidence, weights=weights, trace=trace)


def reply_json(reply: Reply) -> dict:
    """Describe a reply for the API (the trace is served separately to staff)."""
    # Field by field: asdict() would deep-copy the trace only to throw it away.
    return {
        "type": reply.type, "answer": reply.answer, "passages": reply.passages, "disclaimer": reply.disclaimer,
        "suggestions": reply.suggestions, "caution": reply.caution, "confidence": reply.confidence,
        "actions": reply.actions,
    }
