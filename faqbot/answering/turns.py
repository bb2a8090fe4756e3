"""What kind of turn a message is in its conversation, decided from the turn itself.

One pure function, decide(), reads the new message and says whether it stands alone, follows up
the earlier topic, switches topic, asks for clarification or asks again; the pipeline then uses
the history only as the decision says. The rules, and why:

1. **Pointers back.** A demonstrative used as a pronoun ("will it help *that*?", "how many
   sessions would *that* take?") points at the earlier discourse: demonstratives refer to what
   was just talked about. So does a pronoun that is the *object* of a verb or preposition
   ("help *it* recover", "what techniques do they use *for it*?", "massage *them*"): what the
   question is about is something named before.
2. **The subject "it"/"they".** In a clinic's chat the subject of a question is, unless the
   conversation named something else, the service itself ("does *it* hurt?" = does massage hurt;
   "do *they* use oil?" = the therapists). Centering theory's rule of thumb (a subject pronoun
   continues the earlier subject) says the same here: the earlier question's subject was the
   massage. Only when the earlier turn named a topic and no service ("I have sciatica", "what is
   sciatica?") does the subject pronoun stand for that topic.
3. **Ellipsis.** A turn that opens by continuing ("and my posture?", "what about headaches?",
   "for my knee?") leaves out the earlier question's frame; a turn with no topic word of its own
   ("how long does it take?", "will it help?") leaves out its topic. Both borrow the earlier topic.
4. **Clarification.** "what do you mean?", "can you explain that?" ask about the last answer.
5. **Otherwise the turn has its own topic words and stands alone**: a *topic switch* when none of
   them was in the earlier turn, *standalone* when it goes on with the same topic in its own words
   (then the earlier turn may only break ties between equally good passages).
6. **Asked again**: the passages already given for the same topic (see passages_given) are not
   given again word for word.

Topic words are the turn's own words that say what it is about (the pipeline passes them in:
words the articles are about, words our synonyms map, rare words the articles never use), not
"help", "take" or "long". Decided from words and their order alone: no tagger, no model.
"""
from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from ..knowledge.text import normalise, tokenize
from .conversation import CARRIED, Turn, earlier_topic

KINDS = ("standalone", "follow_up", "topic_switch", "clarification", "asked_again", "small_talk")
BORROWING = ("follow_up", "clarification")  # kinds that take the earlier topic into retrieval

DEMONSTRATIVES = {"that", "this", "those", "these"}
OBJECT_PRONOUNS = {"them"}  # always an object: a pointer back
SUBJECT_PRONOUNS = {"it", "its", "they"}  # a pointer back only when not in a subject's place
# A question puts its subject right after the auxiliary ("does it hurt", "is that normal").
AUXILIARIES = {"do", "does", "did", "is", "was", "are", "were", "will", "would", "can", "could", "should",
               "shall", "may", "might", "must", "has", "have", "had", "doesn't", "don't", "isn't", "won't",
               "wont", "cant", "can't"}
# Words after which "it" is a question's or a clause's subject ("does it hurt", "if it helps").
SUBJECT_SLOT = AUXILIARIES | {"and", "but", "or", "so", "if", "because", "when", "then", "that", "whether",
                              "until", "unless", "while", "how", "why", "where", "what"}
# Words that after a demonstrative make it a conjunction ("is it true that my back...") or part of
# a time ("this morning") rather than a pronoun; a topic word after it makes it a determiner
# ("that massage", "those sessions").
NOT_POINTING = {"i", "you", "he", "she", "we", "they", "it", "my", "your", "his", "her", "our", "their",
                "a", "an", "the", "morning", "afternoon", "evening", "week", "weekend", "month", "year", "time"}
# The clinic's own service: a subject pronoun refers to it unless the conversation named something else.
SERVICE = ("massag", "remedi", "therap", "session", "techniq", "treatment", "clinic")
CONTINUES = re.compile(r"^\s*(?:and|also|or|but|plus|so|what about|how about|what if|same for|same with|"
                       r"(?:for|with|on|in|during|after|before) (?:my|your|a|an|the|his|her|our|their))\b")
CLARIFIES = re.compile(r"\b(?:what do you mean|what does (?:that|this|it|\w+) mean|meaning of|explain (?:that|this|it)|"
                       r"(?:don'?t|do not) (?:understand|get it|follow)|in (?:plain|simple|simpler) (?:english|terms|words)|"
                       r"say (?:that|it) again|come again|pardon|what'?s that mean)\b")
CLAUSES = re.compile(r"[,.;:!?()\n]+")


@dataclass(frozen=True)
class TurnDecision:
    """How a turn relates to its conversation, and why (shown in the staff trace)."""

    kind: str  # one of KINDS
    borrows: bool = False  # the earlier topic's words (and meaning) join this turn's in retrieval
    topic_words: tuple[str, ...] = ()  # the turn's own words that say what it is about
    pointers: tuple[str, ...] = ()  # pronouns, demonstratives and ellipsis found, each with its role
    leans_on: str | None = None  # the earlier question whose topic this turn borrows or breaks ties with
    given: tuple[str, ...] = ()  # passages already given for this topic (asked again)
    reasons: tuple[str, ...] = field(default_factory=tuple)


def is_service(term: str) -> bool:
    """Tell whether a term names the clinic's service (massage, therapy, a session, a technique)."""
    return term.startswith(SERVICE)


def pointers(message: str, typed_topic: Collection[str] = ()) -> tuple[list[str], list[str]]:
    """The pronouns that point back at an earlier topic, and the subject pronouns (which may not).

    typed_topic: the message's topic words as typed. Read clause by clause, so a pronoun at a
    clause's start is its subject ("it's hot, will that help?").
    """
    back, subjects = [], []
    for clause in CLAUSES.split(normalise(message)):
        words = tokenize(clause)
        for i, word in enumerate(words):
            before = words[i - 1] if i else None
            after = words[i + 1] if i + 1 < len(words) else None
            if word in DEMONSTRATIVES:
                # Right after an auxiliary it is the question's subject ("is that normal?", "is that a
                # mattress thing?"), unless a topic word and more words follow ("is that massage safe?").
                # Elsewhere "that massage" (a determiner), "that my back..." (a conjunction), "the
                # technique that helps" (a relative pronoun after a topic word) point at nothing earlier.
                subject = before in AUXILIARIES and (after not in typed_topic or i + 2 >= len(words))
                if not subject and (after in NOT_POINTING or after in typed_topic or before in typed_topic):
                    continue
                back.append(f"'{word}' (a demonstrative: what was just talked about)")
            elif word in OBJECT_PRONOUNS:
                back.append(f"'{word}' (an object pronoun)")
            elif word in SUBJECT_PRONOUNS:
                if before is None or before in SUBJECT_SLOT:
                    subjects.append(word)
                else:
                    back.append(f"'{word}' (the object of '{before}')")
    return back, subjects


def decide(message: str, topic: Mapping[str, str], history: Sequence[Turn], own_terms: Collection[str] = (),
           small_talk: bool = False) -> TurnDecision:
    """Decide how a message relates to the conversation before it.

    topic: the message's own topic words, each as typed mapped to its analysed term ("hurt" -> pain);
    own_terms: all its analysed terms (asked again: did it add any word of its own?).
    """
    words = tuple(dict.fromkeys(topic.values()))
    if small_talk:
        return TurnDecision("small_talk", topic_words=words, reasons=("small talk: the history is not used",))
    earlier = earlier_topic(history)
    if earlier is None:
        why = "the first question of the conversation" if not history else "no earlier question to lean on"
        return TurnDecision("standalone", topic_words=words, reasons=(why,))
    back, subjects = pointers(message, {w for typed in topic for w in typed.split()})
    found, text = list(back), normalise(message)
    # Was the earlier turn about the service (it named it, or called it "it")? Then a subject
    # pronoun now goes on talking about the service, not about the earlier turn's topic.
    about_service = any(is_service(t) for t in earlier.weights) or bool(pointers(earlier.message)[1])
    shared = [t for t in words if t in earlier.weights and not is_service(t)]
    new = [t for t in words if t not in earlier.weights and not is_service(t)]
    opening = CONTINUES.search(text)
    if CLARIFIES.search(text):
        kind, why = "clarification", "asks what the last answer meant"
    elif back:
        kind, why = "follow_up", "points back at the earlier topic"
    elif opening:
        found.append(f"opens with '{opening.group(0).strip()}' (ellipsis: the rest is the earlier question's)")
        kind, why = "follow_up", "continues the earlier question with what it leaves out"
    elif subjects and not about_service:
        found += [f"'{w}' (the subject: the earlier turn's topic, which named no service)" for w in subjects]
        kind, why = "follow_up", "its subject is the earlier turn's topic"
    elif not words:
        found += [f"'{w}' (the subject: the service)" for w in subjects]
        kind, why = "follow_up", "no topic word of its own (ellipsis: the topic is left out)"
    else:
        found += [f"'{w}' (the subject: the service)" for w in subjects]
        if new and not shared:
            kind, why = "topic_switch", f"a topic of its own ({', '.join(new)}) the earlier turn did not have"
        else:
            kind, why = "standalone", "says what it asks in its own words; the earlier turn only breaks ties"
    reasons = [why]
    given = passages_given(history, message, own_terms)
    if given:
        reasons.append(f"asked again: {', '.join(sorted(given))} already given")
    return TurnDecision("asked_again" if given else kind, kind in BORROWING, words, tuple(found), earlier.message,
                        tuple(sorted(given)), tuple(reasons))


def passages_given(history: Sequence[Turn], message: str, own_terms: Sequence[str]) -> set[str]:
    """The passages the last answers came from, when this turn asks for their topic again.

    Asked again, in the same words, or as a follow-up that adds no word of its own ("will it help
    that?" after the sciatica question, "tell me more"), the visitor did not get what they wanted:
    the same passage word for word would not help. A run of such asks collects the passages
    already given, so the third ask does not go back to the first. A follow-up with a word of
    its own ("does it hurt?") is a new question, answered from whatever passage fits it best.
    """
    given: set[str] = set()
    own, text = set(own_terms), normalise(message)
    for turn in reversed(history):
        if turn.type not in CARRIED:
            continue  # small talk or an urgent reply between asks does not end the run
        if turn.type != "answer" or not turn.passage:
            break
        if not (normalise(turn.message) == text or own <= turn.weights.keys()):
            break
        given.add(turn.passage)
        if len(given) >= 3:
            break
    return given
