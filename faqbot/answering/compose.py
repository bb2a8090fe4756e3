"""Compose the reply: a short answer from the best sentences, and follow-up suggestions."""
from __future__ import annotations

import re
import weakref

from .analysis import Analyzer
from .index import Hit, Index
from ..knowledge.passages import sentences

SHORT_SENTENCE = 14  # words; a shorter best sentence gets its neighbour for context
# Openings that point back to the sentence before (a demonstrative, a connective, a pronoun).
LEANS_BACK = re.compile(
    r"^\W*(?:this|these|that|those|such|it|its|they|their|them|he|she|his|her|as a result|therefore|however|"
    r"thus|hence|also|furthermore|moreover|in addition|additionally|because of this|for this reason|"
    r"this is why|then|otherwise|instead|similarly|likewise)\b"
    # ...or a demonstrative among its first words: "When this system is not up to full operation".
    r"|^\W*(?:\w+\W+){1,3}(?:this|these|those|such)\s+(?!is\b|are\b|was\b|were\b|means\b)\w", re.IGNORECASE)
CACHED_SENTENCES = 4096  # per analyzer; a few hundred KB
# analyzer -> sentence -> its terms. Answers come from a few popular passages, so their sentences
# are analysed once, not on every answer; an analyzer replaced by a reindex takes its cache with it.
_terms: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def sentence_terms(analyzer: Analyzer, sentence: str) -> frozenset[str]:
    """Return the set of a sentence's index terms, remembered per analyzer."""
    cache = _terms.get(analyzer)
    if cache is None:
        cache = _terms[analyzer] = {}
    terms = cache.get(sentence)
    if terms is None:
        if len(cache) >= CACHED_SENTENCES:
            cache.clear()
        terms = cache[sentence] = frozenset(analyzer.analyze(sentence))
    return terms


def best_sentences(hit: Hit, index: Index, analyzer: Analyzer, limit: int = 2) -> str:
    """Pick the one or two sentences of a passage that carry most of the query's weight."""
    sents = list(hit.passage.sentences) or sentences(hit.passage.text)
    weights = {t: index.idf(t) * s for t, s in hit.contributions.items()}

    def score(s: str) -> float:
        return sum(weights.get(t, 0.0) for t in sentence_terms(analyzer, s))

    scores = [score(s) for s in sents]
    best = max(range(len(sents)), key=lambda i: (scores[i], -i))
    chosen = {best}
    if limit > 1 and len(sents) > 1:
        runner = max((i for i in range(len(sents)) if i != best), key=lambda i: (scores[i], -abs(i - best)))
        short = len(sents[best].split()) < SHORT_SENTENCE
        if short or scores[runner] >= 0.6 * scores[best]:
            # A short sentence reads best with the one after it (it usually introduces it).
            chosen.add(best + 1 if short and best + 1 < len(sents) else runner)
    # A sentence that leans on the one before it ("As a result of this examination, ...") brings
    # its antecedent: the short answer must read well alone.
    for i in sorted(chosen):
        if i > 0 and i - 1 not in chosen and LEANS_BACK.match(sents[i]):
            chosen.add(i - 1)
    return " ".join(sents[i] for i in sorted(chosen))


def suggestions(hits: list[Hit], index: Index, asked: str, n: int = 3, fallback: list | None = None) -> list[str]:
    """Offer questions the corpus answers: variants of nearby passages, then the starters."""
    seen = {asked.strip().lower()}
    out: list[str] = []
    top_doc = hits[0].passage.doc_id if hits else None
    candidates = [h.passage for h in hits[1:]]
    shown = {h.passage.id for h in hits}
    candidates += [p for p in index.document(top_doc) if p.id not in shown] if top_doc else []
    for passage in candidates:
        for q in passage.questions[:1]:
            if q.lower() not in seen:
                seen.add(q.lower())
                out.append(q)
        if len(out) >= n:
            return out
    for q in fallback or []:
        if len(out) >= n:
            break
        if q.lower() not in seen:
            seen.add(q.lower())
            out.append(q)
    return out


PHONE = re.compile(r"\+?\d[\d -]*\d")
SERVICES = re.compile(r"[,;](?![^()]*\))")  # "Lifeline 13 11 14, 1737 (New Zealand, free)": split outside brackets


def call_actions(*texts: str) -> list[dict]:
    """Offer a call button for each service in the texts (split at commas and semicolons) that names one number.

    "000" gives "Call 000"; "Lifeline 13 11 14" gives "Call Lifeline 13 11 14" (tel 131114); a service
    naming several numbers ("000 in Australia, 111 in New Zealand" in brackets) gives none: which to call
    is for the visitor to read.
    """
    out: list[dict] = []
    for text in texts:
        for service in SERVICES.split(text):
            numbers = [n for n in PHONE.findall(service) if sum(c.isdigit() for c in n) >= 3]
            tel = re.sub(r"[^\d+]", "", numbers[0]) if len(numbers) == 1 else None
            if tel and tel not in {a["tel"] for a in out}:
                out.append({"label": "Call " + service.strip(), "tel": tel})
    return out
