"""Cautions in the bot's own words: the condition the visitor named and whom to ask before a massage."""
from __future__ import annotations

import re

from .safety import Rule


def mentioned(rule: Rule, words: str) -> str:
    """Name a condition in the visitor's words where they differ from the rule's.

    "warfarin, which our advice on blood-thinning medication covers": the visitor's word first,
    without suggesting it is that condition ("neuropathy" is not a diagnosis of diabetes).
    """
    named = {w[:5] for w in re.findall(r"\w{3,}", rule.name.lower())}  # "a" is no shared word
    # "pregnant" is the rule's own "pregnancy": nothing to add.
    if not rule.echo or not words or any(w[:5] in named for w in words.split()):
        return rule.name
    return f"{words}, which our advice on {rule.name} covers"


def caution_text(rules: tuple[Rule, ...], said: tuple[str, ...] = ()) -> str | None:
    """Write the caution in the bot's own words, naming each condition and whom to ask."""
    if not rules:
        return None
    parts = [
        f"Because you mentioned {mentioned(rule, words)}, please check with {rule.who} before having a "
        f"massage: {rule.advice}."
        for rule, words in zip(rules, said or ("",) * len(rules))
    ]
    return " ".join(parts) + " Please also tell your therapist about it before your session."
