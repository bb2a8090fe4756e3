"""Small talk and clinic-admin topics: intents matched on the whole message or a keyword."""
from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from ..knowledge.text import normalise


PARTS = re.compile(r"[,.!?;:]+")
QUESTION_PARTS = re.compile(r"[^,.!?;:]+[,.!?;:]*")  # parts with the punctuation that ends them ("...?")
# A part that opens like a question asks something, even without its question mark.
ASKS = re.compile(r"^(?:(?:actually|so|and|but|ok|okay|also|well|um|oh|right|righto|anyway) )*"
                  r"(what|whats|wat|wot|how|why|when|where|who|which|can|could|will|would|does|do|did|is|are|should|"
                  r"shall|may|might|have|has)\b")
# A question asked in the middle of a part, without its question mark: "actually wat time do u open sat".
ASKS_WITHIN = re.compile(r"\b(?:(?:do|does|can|could|will|would)\s+(?:u|you|ya|i)|(?:does|can|could|will|would)\s+it)\b")


# Laughter and emoticons, said alone or around other small talk ("lol ok fair enough", "thanks :)"): a
# reaction, or whatever the rest of the message is. Emoji are dropped with the punctuation by plain().
LAUGHTER = re.compile(r"\b(?:(?:ha|he|ho)(?: ?(?:ha|he|ho))+h?|ha+h?|heh|l+o+l+[sz]?|lmf?a+o+|rofl|lulz|kek|xd+)\b")
EMOTICON = re.compile(r"(?<!\w)(?:[:;=][-']?[)(\]\[dpo3/|*]+|<3+)(?!\w)")
# Emoji that laugh, smile or approve. Any other ("🆘", "🤕", "😭", "💊") is no reaction to answer cheerfully.
REACTION_EMOJI = set("😀😁😂🤣😃😄😅😆😉😊😋😎😍🙂🙃☺😌😜😝😛🤪😏🙄😬🤭🤗🥰😘🤩🥳😹😸😺🙈👍👌👏🙌🙏✌🤙💪❤💕💖💯✨👋")


def reacts(message: str) -> bool:
    """Tell whether a message laughs, or holds an emoji that laughs or approves, or an emoticon."""
    return bool(LAUGHTER.search(message) or EMOTICON.search(message)) or (
        not message.isascii() and any(ch in REACTION_EMOJI for ch in message))


def other_emoji(message: str) -> bool:
    """Tell whether a message holds an emoji (a symbol outside ASCII, "So" in Unicode) that is no reaction."""
    return any(not ch.isascii() and ch not in REACTION_EMOJI and unicodedata.category(ch) == "So" for ch in message)


# Sentence vectors read topic more than tone: "rubbish bot" is nearest to "good bot". What a message
# thinks of the bot or its answer, read from its words, settles which feedback intent it is.
DISPLEASED = re.compile(r"\b(?:rubbish|pathetic|useless|lame|terrible|awful|dumb|stupid|hopeless|poor|(?<!not )bad|worst|"
                        r"crap|garbage|meh|annoying|frustrat\w*|confus\w*|waste|wrong|vague)\b|"
                        r"\bnot (?:very |really |that |so |quite |at all )?(?:good|great|clever|smart|helpful|useful|clear|"
                        r"right|what)\b|\bno (?:use|help|good)\b|\b(?:don'?t|doesn'?t|didn'?t|do not|does not|did not) "
                        r"(?:understand|get it|make sense|help|answer)")
PLEASED = re.compile(r"\b(?:thanks?|thank you|cheers|ta|great|good|helpful|useful|clear|perfect|brilliant|sorted|"
                     r"understand|makes sense|got it|lovely|excellent|fantastic|appreciate\w*)\b")
PRAISE = ("compliment", "thanks")  # the feedback intents of a pleased visitor


def feedback_tone(name: str, message: str) -> str:
    """The feedback intent a message's words call for, when meaning named the other kind: praise
    or thanks read as displeased is a complaint; a complaint with pleased words and no displeased
    ones is thanks. Any other intent is kept. After a "but", what follows it is what is meant
    ("these chat things are usually hopeless, but you've been impressive")."""
    text = plain(message).rsplit(" but ", 1)[-1]
    if name in PRAISE and DISPLEASED.search(text):
        return "complaint"
    if name == "complaint" and PLEASED.search(text) and not DISPLEASED.search(text):
        return "thanks"
    return name


@dataclass(frozen=True)
class Intent:
    name: str
    patterns: tuple[re.Pattern, ...]
    reply: str
    # For a topic about things the articles may come to speak of (another therapy, an animal): the
    # words that name them. Where the articles use the word a question names, the topic gives way.
    names: re.Pattern | None = None


def answered(parts: list[Intent]) -> Intent:
    """The intent a reply follows among a message's small-talk parts: the last that is not a greeting
    ("hi, thanks so much" is thanked), else the last."""
    return next((i for i in reversed(parts) if i.name != "greeting"), parts[-1])


def load_intents(name: str, table: str, whole: bool) -> tuple[Intent, ...]:
    """Load intents from a TOML data file; whole=True anchors patterns to the message."""
    data = tomllib.loads(resources.files("faqbot.data").joinpath(name).read_text("utf-8"))
    wrap = (lambda p: rf"(?:{p})") if not whole else (lambda p: rf"^(?:{p})$")
    # "{subjects}" in a pattern stands for the entry's `subjects` (the therapies a topic is about,
    # written once for the several ways of asking about them).
    return tuple(
        Intent(e["name"], tuple(re.compile(wrap(p.replace("{subjects}", e.get("subjects", "")))) for p in e["patterns"]),
               e["reply"], re.compile("|".join(e["names"])) if e.get("names") else None) for e in data[table]
    )


def any_of(intents: tuple[Intent, ...]) -> re.Pattern:
    """Return one regex that matches wherever any intent's pattern does: one scan tells most
    messages apart from all of them, and only a message it matches is checked intent by intent."""
    return re.compile("|".join(p.pattern for i in intents for p in i.patterns) or r"(?!)")


def plain(message: str) -> str:
    """Case-fold and drop punctuation so 'Thanks!!' reads as 'thanks'."""
    return " ".join(re.sub(r"[^\w' ]+", " ", normalise(message)).split())


class SmallTalk:
    """Recognise greetings, thanks, goodbyes and questions about the bot."""

    def __init__(self, intents: tuple[Intent, ...]):
        self.intents = intents
        self._any = any_of(intents)
        greeting = next((i for i in intents if i.name == "greeting"), None)
        self._reaction = next((i for i in intents if i.name == "reaction"), None)
        body = greeting.patterns[0].pattern[4:-2] if greeting else r"(?!)"
        self._greeting_prefix = re.compile(rf"^\W*(?:{body})\b[\s,.!-]*", re.I)

    def match(self, message: str) -> Intent | None:
        """Return the intent when the whole message is small talk.

        A message of several small-talk parts ("good morning, how are you?", "cheers, that was
        helpful") is small talk too; the reply follows its last part that is not a greeting.
        """
        text = plain(message)
        whole = self._intent(text)
        if whole is not None:
            return whole
        folded = normalise(message)
        if reacts(folded):  # "😂", "haha", "lol ok fair enough", "thanks :)"
            rest = plain(LAUGHTER.sub(" ", EMOTICON.sub(" ", folded)))
            if not rest:  # ...unless another emoji is said with it ("😂😭", "👍🚑")
                return None if other_emoji(folded) else self._reaction
            if rest != text and (said := self._intent(rest)) is not None:
                return said
        parts = [plain(p) for p in PARTS.split(folded)]
        found = [self._intent(p) for p in parts if p]
        if len(found) < 2 or None in found:
            return None
        return answered(found)

    def with_chatter(self, message: str, chatter) -> Intent | None:
        """Small talk said around words that ask nothing: "You are very good helper, thank you so much!",
        "hi, I'm just asking on behalf of my mum, hope that's ok".

        At least one part (split at punctuation) must be small talk by its patterns, and every other
        part chatter: no question, and nothing `chatter(text)` finds the articles or the clinic are
        about. The reply follows the last small-talk part that is not a greeting.
        """
        pieces = [p.strip() for p in QUESTION_PARTS.findall(normalise(message)) if p.strip(" ,.!;:")]
        if len(pieces) < 2:
            return None
        found = []
        for piece in pieces:
            intent = self._intent(plain(piece))
            if intent is None and (piece.endswith("?") or ASKS.match(plain(piece)) or ASKS_WITHIN.search(plain(piece))
                                   or not chatter(piece)):
                return None
            found.append(intent)
        said = [i for i in found if i is not None]
        return answered(said) if said else None

    def _intent(self, text: str) -> Intent | None:
        if not self._any.match(text):  # one scan: most messages are no small talk at all
            return None
        return next((i for i in self.intents if any(p.match(text) for p in i.patterns)), None)

    def strip_greeting(self, message: str) -> str:
        """Drop a leading greeting so 'Hi! what is petrissage?' asks the question."""
        return self._greeting_prefix.sub("", normalise(message), count=1) or message


@lru_cache(maxsize=1)
def default_smalltalk() -> SmallTalk:
    """Load the shipped small-talk intents."""
    return SmallTalk(load_intents("smalltalk.toml", "intent", whole=True))


@lru_cache(maxsize=1)
def clinic_topics() -> tuple[Intent, ...]:
    """Load the clinic-admin topics the articles cannot answer."""
    return load_intents("clinic_topics.toml", "topic", whole=False)


@lru_cache(maxsize=1)
def any_clinic_topic() -> re.Pattern:
    return any_of(clinic_topics())


def clinic_topic(message: str) -> Intent | None:
    """Return the clinic-admin topic a message asks about, if any."""
    text = plain(message)
    if not any_clinic_topic().search(text):
        return None
    return next((t for t in clinic_topics() if any(p.search(text) for p in t.patterns)), None)
