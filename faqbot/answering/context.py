"""What a matched phrase reports, read from the words around it (after NegEx and ConText):
negated ("no chest pain"), dated in the past ("two years ago"), or asked about in general
("what are the signs of a stroke"). The safety rules and the concept layer both read it.
"""
from __future__ import annotations

import re

# Clauses end at punctuation and at words that start a new thought ("no chest pain, just
# a stiff back"), so a negation only reaches the words of its own clause.
CLAUSE_BREAK = re.compile(r"[.,;:!?()\n]|\b(?:but|however|although|though|just|except|and now|yet)\b")
# What bounds a time phrase's reach: a clause break other than a comma, or a word that brings
# the telling back to the present ("in 2020, now he has crushing chest pain").
THOUGHT_BREAK = re.compile(r"[.;:!?()\n]|\b(?:but|however|although|though|just|except|and now|yet|now|today|tonight|"
                           r"this (?:morning|afternoon|evening)|currently|at the moment)\b")
# Apostrophes are dropped from messages and patterns alike, so "cant breathe" matches
# "can't breathe" (visitors on phones skip them). "never" is read apart (NEVER below).
NEGATION = re.compile(
    r"\b(?:no|not|without|none|nor|denies|deny|free of|"
    r"(?:do|does|did|have|has|had|is|am|are|was|were)(?:nt| not)(?: \w+)?)\b"
)
# Phrases that look like negations but express doubt, not absence (NegEx "pseudo-negations").
PSEUDO_NEGATION = re.compile(
    r"\b(?:not sure|not certain|no idea|not know|nt know|not only|no doubt|not stop|nt stop|oh no|"
    # "without" that qualifies a verb, not a finding: "lost 6 kg without trying", "collapsed without warning"
    r"without (?:any )?(?:trying|warning|reason|explanation|cause|meaning to)|"
    # what did not work or help negates no finding after it: "if this massage does not work I intend to..."
    r"(?:does|do|did|would|has|have)(?:nt| not) (?:work|help|helped|worked))\b"
)
# A clause that asks about a condition in general reports no one's symptom (ConText's
# "hypothetical"): "whats the difference between a heart attack and a cardiac arrest", "what would
# you do if someone fainted on the table", "if a client got chest pain on the table". Clause by
# clause, so "how do you tell if its a heart attack, my chest is crushing" still fires on its second
# clause. A condition put to a clinic's client is hypothetical after "if"; to anyone else only
# after "what if", "suppose" or "imagine" ("what do I do if someone is not breathing" may be now).
# (Messages arrive without apostrophes: see plain().)
GENERAL_QUESTION = re.compile(
    r"\b(?:diff(?:erence)? between|is it true|what (?:would|do|should) (?:you|your \w+|they) do if|"
    r"(?:what are|what r|whats|what is) the (?:\w+ ){0,2}(?:signs|symptoms) of|how (?:do|can|would) (?:you|i|we|they) tell|"
    r"trained to (?:spot|recogni[sz]e)|"
    r"(?:if|suppose|supposing|imagine|what if|in case) (?:a |an |the |your )?(?:\w+ )?(?:client|customer|patient)s?|"
    r"(?:what if|suppose|supposing|imagine|hypothetically),? (?:if )?(?:someone|somebody|anyone)(?:s\b)?|"
    # someone at the clinic, not now: "if someone had a heart attack in your clinic", "what do you tell a client"
    r"if (?:someone|somebody|anyone|a person|some (?:bloke|guy|man|woman|lady|person|one))\b[^.?!]{0,60}\b"
    r"(?:(?:in|at) (?:your|the) (?:clinic|place)|on the table|mid-?massage|"
    r"arrived|came in|turned up|walked in|showed up|"
    r"during (?:a|the|their) (?:massage|session|treatment))|(?:tell|say to|advise) (?:a|your|my) (?:client|customer|patient)|"
    # about the clinic's staff: "do your therapists know how to use an epi pen if someone reacts?"
    r"(?:do|are|is) (?:your|the) (?:therapists?|staff|masseurs?|massage therapists?)\b[^.?!]{0,20}\b(?:know|trained|able|first aid))\b"
)
# Ways of dating an event in the past that every rule with an `unless` also reads (ConText's
# "historical"): "a few years back", "in 2020", "when she was little", "as a kid". A rule without an
# `unless` of its own reads only safety.DATED, a stricter list (years back, never a bare year); the
# crisis rule (suicidal thoughts) reads no date: urgent whenever told, unless told as over (resolution).
PAST_EVENT = (r"(years?|months?) back\b|\b(in )?(19|20)\d\d\b|back in (the )?(twenty|nineteen|\d0s)|"
              # a year written short ("back in 98"), not a time ("came back in 20 minutes")
              r"back in \d\d\b(?! ?(seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?)\b)|"
              r"when (i|he|she|they) (was|were) (little|young|small|a (kid|child|baby|toddler|teenager))|"
              r"as a (kid|child|teen|teenager|toddler|baby)\b|"
              # an age after a past verb says when, not now: "my dad had a heart attack at 60", "when she
              # was 45"; not an age alone ("at 90 my nan fell and can't get up" is about now)
              r"\b(had|got|suffered|was diagnosed)\b[^.,;]{0,30}\bat (the )?(age (of )?)?[2-9]\d\b"
              r"(?! ?(weeks?|wks|am|pm|o.?clock|mins?|minutes|kg|km|:))|"
              r"when (i|he|she|they) (was|were) (like |about |around |only |just )?([1-9]\d?\b|(one|two|three|four|five|six|seven|eight|"
              r"nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen)\b)|"
              # "three weeks before", "a few months back": dated, in a learner's or a casual word
              r"\b(\d+|a few|few|a couple of|two|three|four|five|six|seven|eight) (weeks?|months?|years?) (before|back|earlier)\b")
POST_NEGATION = re.compile(r"[- ]?free\b")  # "seizure-free", "symptom free"
# "never" negates what follows ("I've never fainted", "never had a clot") unless the clause goes on to
# compare: "I've never had chest pain this bad", "never felt anything like it" are red flags.
NEVER = re.compile(r"\bnever\b")
COMPARED = re.compile(r"\b(?:this|that|so|such|like|before|worse|as bad|than|ever)\b")
NEGATION_WINDOW = 5  # words before a match that a negation may stand in
PAST_WINDOW = 45  # characters either side of a match that its time phrase ("two years ago") stands in
SENTENCE_BREAK = re.compile(r"[.!?;\n]+")


def negated(clause: str, start: int, end: int | None = None) -> bool:
    """Tell whether a negation cue stands within a few words before position start, or right after
    the match that ends at end ("seizure-free for two years", "pain free": NegEx's post-negation)."""
    if end is not None and POST_NEGATION.match(clause, end):
        return True
    before = PSEUDO_NEGATION.sub(" ", clause[:start])
    window = " ".join(before.split()[-NEGATION_WINDOW:])
    if NEVER.search(window) and not COMPARED.search(clause, end if end is not None else start):
        return True
    if before.rstrip().endswith(" nothing") or before.rstrip() == "nothing":  # "nothing sudden", not "nothing helps the pain"
        return True
    return bool(NEGATION.search(window))


def clauses(text: str) -> list[str]:
    """Split normalised text into clauses."""
    return [c.strip() for c in CLAUSE_BREAK.split(text) if c and c.strip()]


# An event told as checked and over (ConText's "historical", widened to what came of it): a
# clinician's or a test's all-clear ("they did an ECG, all normal", "doc cleared him", "turned out
# to be just reflux"), or a long time ago and well since ("twenty years ago, no trouble since", "in a
# much better place now"). What is told after it must raise no red flag of its own and not bring the
# event back ("but now", "it came back"): "the GP said it was just a strain / now my calf is hot and
# swollen" stays urgent. Symptoms that passed by themselves are not resolved: a stroke's signs that
# went away within minutes are still a TIA, so "it passed, I feel fine" is no all-clear.
CLINICIAN = (r"(?:doc|docs|doctor|doctors|gp|dr|hospital|ed|er|a and e|emergency|urgent care|they|specialist|ambos|ambulance|paramedics?|"
             r"cardiologist|pharmacist|physio|midwife|scans?|tests?|results?|ecgs?|bloods|x-?rays?|ultrasound|mri|ct)")
CLEARED = (rf"\b{CLINICIAN}\b[^.;!?]{{0,60}}?\b(?:all (?:clear|normal|fine|good|ok|okay)|"
           r"(?:were|was|is|are|came back|come back|both|all) (?:all )?(?:clear|normal|fine)|"
           r"found nothing|nothing (?:amiss|wrong|abnormal|untoward|sinister|of concern)|no (?:clot|dvt|break|fracture|bleed)\b|"
           r"(?:attributed|put|blamed) (?:it|this|that) (?:down )?(?:to|on)|"
           r"(?:said|says|say|told (?:me|him|her|us)|thinks?|think) (?:it was |its |it is |it s )(?:a |an )?(?:strain|strained|"
           r"pulled|sprain|sprained|cramp|bruise|muscle|virus|reflux|indigestion|anxiety|panic attack|migraine)\b|"
           r"cleared (?:me|him|her|them|it)|ruled (?:it |that |everything )?out|"
           r"(?:said|says|say|told (?:me|him|her|us)|thinks?|think) (?:it was |its |it is |i was |hes |shes |he was |she was "
           r"|that |it s )?(?:just|only|nothing|fine|normal|not (?:a|an|serious|anything|dangerous)|no (?:clot|break|fracture))|"
           r"(?:said|says|say) (?:it|that) (?:wasnt|was not|isnt|is not) (?:a |an )?(?:concern|problem|worry|serious|dangerous))|"
           r"\b(?:turned|turns) out (?:to be |it was |i was |it s |its |he was |she was )?(?:just|only|nothing|fine)|"
           r"\b(?:it|that) (?:wasnt|was not|isnt|is not) (?:a|an) (?:clot|dvt|break|fracture|heart attack|stroke)\b")
# How many years or decades: "a couple of", "twenty", "15".
HOW_MANY = (r"(?:\d+|a few|few|a couple of|couple of|many|several|two|three|four|five|six|seven|eight|nine|ten|"
            r"twelve|fifteen|twenty|thirty|forty|fifty)")
LONG_AGO = (rf"\b{HOW_MANY} (?:years|decades) (?:ago|back|earlier|before)\b|\byears ago\b|"
            r"\b(?:as a|when (?:i|he|she|they) (?:was|were)) (?:kid|child|teen|teenager|little|young|small|baby|toddler)\b|"
            r"\b(?:in|from|during) (?:my|his|her) (?:youth|teens|teenage years|childhood|twenties|school days)\b|\bat school\b|\bin (?:19|20)\d\d\b|\blong ago\b|"
            r"\bused to\b|\blast year\b|\bback in\b|\b(?:my|his|her) past\b|\bhistory of\b")
# Well now or since, not before: "yesterday she was ok" says nothing of how it ended.
WELL_SINCE = (r"\b(?:(?:been|doing|kept|stayed|feel|feeling|is|am|im) (?:really |very |perfectly |completely |"
              r"totally |absolutely |quite )?(?:well|fine|good|great|ok|okay|healthy|sweet|stable)|"
              r"(?:a )?(?:good|better|great) place(?: now)?|right as rain|"
              r"no (?:trouble|troubles|issues|problems|reactions?|episodes?|recurrence|thoughts|symptoms|headaches|"
              r"pain|attacks?|clots?)\b[^.;!?]{0,20}\b(?:since|in years|for years|now)|"
              r"(?:much )?better place|long (?:since )?healed|healed (?:long ago|years ago|up fine)|been clean|"
              r"(?:fine|well|ok|okay|good) (?:ever )?since|clean (?:for|since)|(?:\w+ )(?:years?|months?) clean|"
              r"(?:way|much|a lot|heaps|loads) better now|(?:nothing|none|not once) since|recovered(?: well| fully)?)\b")
# What was just told, dated years back by the next sentence or turn: "My son collapsed. That was when
# he was 16; he's 30 now" (ConText's "historical" across a sentence). Years, not "back in March":
# a recent event stays a red flag unless a clinician cleared it.
DATED_BACK = (r"(?:^|[.;!?\n] *)(?:and |but )?(?:that|this|it|all that|all this) (?:was|were|happened) (?:all )?"
              rf"(?:about |over |more than |nearly |like )?(?:{HOW_MANY} (?:years|decades) "
              r"(?:ago|back|earlier)|years ago|long ago|in (?:19|20)\d\d|when (?:i|he|she|they) (?:was|were) (?:a )?"
              r"(?:kid|child|teen|teenager|little|young|small|baby|toddler|[1-9]\d?\b)|as a (?:kid|child|teenager))")
RESOLUTION = re.compile(f"{CLEARED}|(?P<well>{WELL_SINCE})|(?P<dated>{DATED_BACK})")
LONG_AGO_RE = re.compile(LONG_AGO)
# After the all-clear, what brings the event back to now ("the thoughts are back lately", "it still hurts").
BACK_AGAIN = re.compile(r"\b(?:came|come|comes|coming|is|its|it s|are|were|am|has|have|is now|creeping) back\b(?! to normal)|"
                        r"\breturn(?:ed|ing)\b|\b(?:lately|recently|these days)\b|"
                        r"\bstill (?:hurts?|aches?|aching|sore|painful|swollen|numb|tight|there|having|getting)\b|"
                        r"\b(?:feel|feeling|felt|got|getting|having|had) (?:it |them |that |those )?again\b|"
                        r"\b(?:started|happened|happening|starting) again\b|\bagain (?:now|today|tonight|this)\b|"
                        r"\b(?:getting|got|gotten|gone|much|even) worse\b|\bnow (?:i|im|ive|he|hes|she|shes|they|it|its|my|"
                        r"his|her|the|there)\b(?![^.;!?]{0,40}\b(?:is|are|back to|looks?|looking) normal\b)")
# Before the all-clear, what says a symptom is going on now: an old all-clear cannot speak for it
# ("crushing chest pain right now; last year's ECG was normal").
GOING_ON = re.compile(r"\b(?:right now|at the moment|currently|as we speak|as i type|still|keeps|keep getting|tonight)\b")
STILL_HAPPENING = re.compile(r"\b(?:again|keeps?|lately|recently|these days|sometimes|some days|on and off|every)\b")


def resolution(text: str) -> re.Match | None:
    """The last all-clear in a (plain) text that nothing before or after it keeps current, or None.

    A long-ago-and-well-since only counts when the text dates something long ago."""
    last = None
    for m in RESOLUTION.finditer(text):
        if m.group("well") and not LONG_AGO_RE.search(text, 0, m.start()):
            continue
        last = m
    if last is None or BACK_AGAIN.search(text, last.end()) or GOING_ON.search(text, 0, last.start()):
        return None
    if last.group("dated") and (GOING_ON.search(text, last.end()) or STILL_HAPPENING.search(text, last.end())):
        return None  # dated years back by the visitor alone: nothing after it may say it goes on
    return last
