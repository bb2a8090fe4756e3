"""What visitors asked: unanswered questions grouped by wording, thumbs-down answers, topics, CSV."""
from __future__ import annotations

import csv
import io
import itertools
import logging
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

from ..knowledge.passages import Passage
from ..knowledge.text import tokenize
from ..answering.pipeline import Bot
from ..storage.base import Downvote, Store

log = logging.getLogger(__name__)
MAX_ROWS = 20000  # most recent log rows a console view reads
SIMILAR = 0.5  # IDF-weighted Jaccard at which two wordings count as the same question
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = ("time_utc", "session_id", "reply_id", "message", "type", "confidence", "top_passage",
               "topic", "votes_up", "votes_down", "comments")
INCOMPLETE = "EXPORT INCOMPLETE"  # the last line of a download cut short


class ExportInterrupted(Exception):
    """The log failed mid-download: raised after the rows sent so far, so the server aborts the response."""


@dataclass
class Group:
    """Visitor questions worded alike, most frequent wording first."""

    message: str
    terms: frozenset[str]
    count: int = 0
    wordings: Counter = field(default_factory=Counter)
    last: float = 0.0
    confidence: float = 0.0  # the highest any wording reached
    closest: dict | None = None  # the passage retrieval ranks first, ignoring the threshold
    why: str = ""  # why the bot did not answer (rule or confidence)


@dataclass
class Topic:
    doc_id: str
    title: str
    count: int
    passages: list[tuple[str, int]]  # (heading, or the opening words of a passage without one; times top)


@dataclass
class Overview:
    since: float
    total: int
    by_type: dict[str, int]
    votes: dict[str, int]
    unanswered: list[Group]
    low_confidence: list[Group]
    downvotes: list[Downvote]
    topics: list[Topic]


def similarity(bot: Bot, a: frozenset[str], b: frozenset[str]) -> float:
    """IDF-weighted Jaccard: sharing "massage" says little, sharing "sciatica" a lot."""
    union = sum(bot.index.idf(t) for t in a | b)
    return sum(bot.index.idf(t) for t in a & b) / union if union else float(a == b)


def group_similar(bot: Bot, rows: list[tuple[str, float, float | None]]) -> list[Group]:
    """Group (message, created, confidence) rows by analysed wording, biggest group first."""
    counts: Counter = Counter()
    seen: dict[str, tuple[str, float, float]] = {}  # words -> (as written, last, best confidence)
    for message, created, confidence in rows:
        key = " ".join(tokenize(message)) or message.strip()  # case and punctuation aside, the same words
        counts[key] += 1
        _, last, best = seen.get(key, (message, 0.0, 0.0))
        seen[key] = (message, max(last, created), max(best, confidence or 0.0))
    groups: list[Group] = []
    for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        message, last, best = seen[key]
        terms = frozenset(bot.analyzer.analyze(message)) or frozenset({key})
        scored = [(similarity(bot, g.terms, terms), i) for i, g in enumerate(groups)]
        score, i = max(scored, default=(0.0, -1))
        group = groups[i] if score >= SIMILAR else None
        if group is None:
            group = Group(message, terms)
            groups.append(group)
        group.count += n
        group.wordings[message] += n
        group.last = max(group.last, last)
        group.confidence = max(group.confidence, best)
    return sorted(groups, key=lambda g: (-g.count, -g.last))


def closest(bot: Bot, group: Group) -> None:
    """Fill in the passage that came closest to answering a group, and why it was not used."""
    reply = bot.reply(group.message)
    trace = reply.trace
    top = trace.hits[0] if trace.hits else None
    group.closest = top
    if trace.rule:
        group.why = f"{trace.rule} (now: {trace.decision})"
    elif top is None:
        group.why = "no passage shares a word with it"
    else:
        group.why = f"confidence now {trace.confidence:.2f} vs threshold {trace.threshold:.2f} ({trace.decision})"


def passage_label(passage: Passage | None, words: int = 6) -> str:
    """Name a passage for people: its heading, else its opening words (an article's introduction has none)."""
    if passage is None:
        return "a passage no longer in the corpus"
    if passage.heading:
        return passage.heading
    opening = passage.text.split()
    return "“" + " ".join(opening[:words]) + ("…" if len(opening) > words else "") + "”"


def topics(bot: Bot, rows: list[tuple[str | None]]) -> list[Topic]:
    """Count answered questions per article and, within it, per passage."""
    by_id = {p.id: p for p in bot.index.passages}
    per_doc: dict[str, Counter] = defaultdict(Counter)
    titles: dict[str, str] = {}
    for (passage_id,) in rows:
        passage = by_id.get(passage_id)
        doc_id = passage.doc_id if passage else passage_id.split("#")[0]
        titles[doc_id] = passage.doc_title if passage else f"{doc_id} (no longer in the corpus)"
        per_doc[doc_id][passage_label(passage)] += 1
    out = [Topic(d, titles[d], sum(c.values()), c.most_common(5)) for d, c in per_doc.items()]
    return sorted(out, key=lambda t: (-t.count, t.title))


def overview(bot: Bot, store: Store, days: float, low_confidence: float, limit: int = 30) -> Overview:
    """Gather the console's view of the log since `days` ago (after enforcing retention)."""
    store.purge()
    since = time.time() - days * 86400
    rows = store.questions_since(since, MAX_ROWS)
    votes = store.votes_since(since)
    down = store.downvotes_since(since, limit * 3)
    unanswered = group_similar(bot, [r[:3] for r in rows if r[3] == "fallback"])[:limit]
    low = group_similar(bot, [r[:3] for r in rows if r[3] == "answer" and (r[2] or 0) < low_confidence])[:limit]
    for group in unanswered + low:
        closest(bot, group)
    return Overview(since, len(rows), dict(Counter(r[3] for r in rows)), votes, unanswered, low,
                    down,
                    topics(bot, [(r[4],) for r in rows if r[3] == "answer" and r[4]]))


def group_json(group: Group) -> dict:
    return {"message": group.message, "count": group.count, "last": group.last, "confidence": group.confidence,
            "wordings": [{"message": m, "count": n} for m, n in group.wordings.most_common()],
            "closest": group.closest, "why": group.why}


def overview_json(view: Overview) -> dict:
    """Describe the console's view of the log for the API."""
    return {"since": view.since, "total": view.total, "by_type": view.by_type,
            "votes": {"up": view.votes.get("up", 0), "down": view.votes.get("down", 0)},
            "unanswered": [group_json(g) for g in view.unanswered],
            "low_confidence": [group_json(g) for g in view.low_confidence],
            "downvotes": [d._asdict() for d in view.downvotes],
            "topics": [{**asdict(t), "passages": [{"passage": p, "count": n} for p, n in t.passages]}
                       for t in view.topics]}


def safe_cell(value) -> str:
    """Stop a spreadsheet from running a visitor's text as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def export_csv(bot: Bot, store: Store, days: float):
    """Yield the question log since `days` ago as CSV, one chunk of rows at a time."""
    store.purge()
    titles = {p.id: p.doc_title for p in bot.index.passages}
    pages = store.export(time.time() - days * 86400)
    first = next(pages, [])  # query before the header, so a database fault is an error, not a cut-off file
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    sent = 0
    try:
        for page in itertools.chain([first], pages):
            for created, sid, rid, message, type_, conf, top, up, down_, comments in page:
                writer.writerow([iso(created), safe_cell(sid), safe_cell(rid), safe_cell(message), type_,
                                 "" if conf is None else f"{conf:.4f}", safe_cell(top),
                                 safe_cell(titles.get(top, "")), up, down_, safe_cell(comments)])
            sent += len(page)
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    except Exception as exc:
        # The status line is long gone: say so in the file itself (for a client or proxy that can't tell a
        # cut-off body from a finished one), then raise, so the server ends the response without its last
        # chunk and the browser or curl reports the download as failed instead of saving a short file.
        log.warning("CSV export failed after %d rows: %s", sent, exc)
        writer.writerow([f"{INCOMPLETE}: the log could not be read after {sent} rows; download it again"])
        yield buffer.getvalue()
        raise ExportInterrupted(f"export failed after {sent} rows") from exc
