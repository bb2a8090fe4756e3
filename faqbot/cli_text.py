"""How the faqbot command prints: replies, their traces, tables, counts (plain text for a terminal)."""
from __future__ import annotations

import click


def print_reply(reply):
    click.echo(f"[{reply.type}] (confidence {reply.confidence:.2f})")
    click.echo(reply.answer)
    for i, p in enumerate(reply.passages, 1):
        src = p["source"]
        heading = f" > {src['heading']}" if src["heading"] else ""
        click.echo(f"\n  {i}. {p['score']:.3f}  {src['title']}{heading}  [{p['id']}]")
        click.echo(click.wrap_text(p["text"], initial_indent="     ", subsequent_indent="     ", width=100))
    if reply.suggestions:
        click.echo("\nYou could also ask: " + " | ".join(reply.suggestions))
    click.echo(f"\n{reply.disclaimer}")


def table(headers: list[str], rows: list[list[str]], indent: str = "  ") -> list[str]:
    """Lay rows out in columns under their headers (the last column is left ragged)."""
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers) - 1)]
    lines = []
    for row in [headers, *rows]:
        cells = [str(c).ljust(w) for c, w in zip(row, widths)] + [str(row[-1])]
        lines.append((indent + "  ".join(cells)).rstrip())
    return lines


def explain_lines(trace: dict) -> list[str]:
    """The trace as the staff console shows it: decision, safety, words, top passages and their scores."""
    t = trace
    rule = t["rule"] or "none (retrieval and confidence decided)"
    lines = ["", "--- why ---", f"decision     {t['decision']} (confidence {t['confidence']:.2f}, threshold {t['threshold']:.2f})",
             f"rule         {rule}", f"safety       {', '.join(t['safety']) or 'no rule matched'}"]
    for note in t["meaning"]:
        lines.append(f"by meaning   {note}")
    if t["corrections"]:
        lines.append("spelling     " + ", ".join(f"{a} -> {b}" for a, b in t["corrections"].items()))
    if t["ignored"]:
        lines.append("ignored      " + ", ".join(t["ignored"]) + " (everyday words the articles never use)")
    lines += turn_lines(t.get("turn"))
    for turn in t["context"]:
        lines.append(f"  earlier:   {turn['message']}" + (f" ({turn['type']})" if turn["type"] else ""))
    if t["features"]:
        lines.append("gate         " + ", ".join(f"{k} {v:.2f}" for k, v in t["features"].items()))
    lines += carrying_lines(t)
    if t["terms"]:
        lines += ["", "Terms"]
        lines += table(["word", "term", "how", "counted"], [
            [r["surface"] + (f" (typed {r['corrected_from']!r})" if r["corrected_from"] else ""), r["term"], r["how"],
             r["status"]] for r in t["terms"]])
    if t["weights"]:
        lines.append("  query weights: " + ", ".join(
            f"{k} {v:.2g}" for k, v in sorted(t["weights"].items(), key=lambda kv: -kv[1])))
    if t["hits"]:
        fused = t["hits"][0].get("makeup", {}).get("fused")
        share = t.get("lexical_share", 1.0)
        reads = f" x the {share:.0%} of the question it reads" if share < 1 else ""
        how = (f"score = BM25 part + meaning part ({1 - t['hits'][0]['makeup']['weight']:.0%} BM25 scaled to the best{reads}, "
               f"{t['hits'][0]['makeup']['weight']:.0%} meaning scaled 0-1)") if fused else "score = BM25"
        lines += ["", f"Top passages: {how}"]
        rows = []
        for i, h in enumerate(t["hits"], 1):
            m = h.get("makeup", {})
            parts = [f"{m['bm25_part']:.4f}", f"{m['meaning_part']:.4f}"] if fused else []
            heading = f" > {h['source']['heading']}" if h["source"]["heading"] else ""
            rows.append([str(i), f"{h['score']:.4f}", *parts, f"{m.get('bm25', h['score']):.3f}",
                         f"{h['id']}  {h['source']['title']}{heading}"])
        lines += table(["#", "score", *(["BM25 part", "meaning part"] if fused else []), "BM25", "passage"], rows)
        for i, h in enumerate(t["hits"], 1):
            m = h.get("makeup", {})
            terms = ", ".join(f"{k} {v:.3f}" for k, v in sorted(h["contributions"].items(), key=lambda kv: -kv[1]))
            lift = f" x (1 + {m['variant_weight']:g} x {m['variant']:.3f} visitor-question match)" if m.get("variant") else ""
            lines.append(f"  {i}. BM25 {m.get('bm25', 0.0):.3f} = terms {m.get('terms', 0.0):.3f}{lift}: {terms or 'none'}")
    return lines


def carrying_lines(t: dict) -> list[str]:
    """The words that carry the question, each with how the top passage covers it (answering/carrying.py)."""
    if not t.get("carrying"):
        return []
    words = ", ".join(f"{w['word']} {w['weight']:.2f} ({w['covered'] or ('not covered' if t['coverage'] else 'not checked')})"
                      for w in t["carrying"])
    return [f"carrying     {words}"] + ([f"coverage     {t['coverage']}"] if t["coverage"] else [])


def turn_lines(turn: dict | None) -> list[str]:
    """How the turn relates to the conversation (answering.turns.decide), and what it did to retrieval."""
    if turn is None:
        return ["turn         not read (the safety screen answered)"]
    use = ("the earlier topic's terms were added at lower weight" if turn["borrows"]
           else "answered on its own" + (", the earlier turn breaking ties" if turn["kind"] == "standalone"
                                         and turn["leans_on"] else ""))
    lines = [f"turn         {turn['kind']}: {use}", *(f"  because   {r}" for r in turn["reasons"])]
    if turn["topic_words"]:
        lines.append("  topic     " + ", ".join(turn["topic_words"]))
    lines += [f"  pointer   {p}" for p in turn["pointers"]]
    return lines


def plural(n: int, noun: str) -> str:
    """"1 passage", "2 passages"."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def passage_summary(passages) -> str:
    """"1 passage of 53 words", "3 passages of 40-90 words"."""
    words = sorted(p.words for p in passages)
    if not words:
        return "0 passages"
    span = str(words[0]) if words[0] == words[-1] else f"{words[0]}-{words[-1]}"
    return f"{plural(len(words), 'passage')} of {span} {'word' if span == '1' else 'words'}"
