import subprocess
import sys

from faqbot.cli import main


def test_ask_prints_answer_passages_and_scores(runner):
    result = runner.invoke(main, ["ask", "will it help my sciatica?"])
    assert result.exit_code == 0, result.output
    assert "[answer]" in result.output and "sciatica" in result.output
    assert "1. " in result.output and "General information" in result.output


def test_ask_explain_shows_the_trace(runner):
    result = runner.invoke(main, ["ask", "--explain", "--json", "can it help siatica"])
    assert result.exit_code == 0
    assert '"corrections"' in result.output and '"siatica": "sciatica"' in result.output


def test_ask_several_turns(runner):
    result = runner.invoke(main, ["ask", "Does it help with posture? / how many sessions would that take?"])
    assert "number of sessions" in result.output


def test_check_corpus_ok_and_bad(runner, tmp_path):
    ok = runner.invoke(main, ["check-corpus"])
    assert ok.exit_code == 0 and "5 documents" in ok.output
    (tmp_path / "bad.md").write_bytes(b"\xff\xfe")
    (tmp_path / "empty.txt").write_text("")
    bad = runner.invoke(main, ["check-corpus", str(tmp_path)])
    assert bad.exit_code == 3
    assert "bad.md: not UTF-8" in bad.output and "empty.txt: empty" in bad.output
    assert "Traceback" not in bad.output


def test_import_article_cleans_a_scrape(runner, tmp_path):
    raw = tmp_path / "raw.txt"
    raw.write_text("Site\n\n\u00ab Back to Home\n\nNeck Pain Relief\n\nPosted on\n\nMassage eases necks.\n")
    result = runner.invoke(main, ["import-article", str(raw), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "neck-pain-relief.md").read_text()
    assert "title: Neck Pain Relief" in text and "Back to Home" not in text and "Posted on" not in text


def test_server_refuses_a_bad_corpus_without_a_traceback(tmp_path):
    (tmp_path / "empty.md").write_text("")
    env = {"FAQBOT_CORPUS_DIR": str(tmp_path), "FAQBOT_DATABASE": str(tmp_path / "d.sqlite3"), "PATH": ""}
    proc = subprocess.run([sys.executable, "-c", "import faqbot.wsgi"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 3
    assert "empty.md: empty" in proc.stderr and "Traceback" not in proc.stderr


def test_lenient_corpus_serves_the_good_files(tmp_path):
    from faqbot import create_app
    (tmp_path / "good.md").write_text("# Neck Care\n\nMassage can ease a stiff neck after long days at a desk.\n")
    (tmp_path / "bad.md").write_text("")
    app = create_app({"CORPUS_DIR": str(tmp_path), "CORPUS_STRICT": False, "DATABASE": str(tmp_path / "d.db")})
    assert app.extensions["faqbot"].index.passages[0].doc_title == "Neck Care"


def test_reindex_shows_progress_while_it_embeds_new_texts(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from faqbot.cli import main

    monkeypatch.setenv("FAQBOT_DATABASE", str(tmp_path / "r.sqlite3"))
    monkeypatch.setenv("FAQBOT_EMBEDDING_CACHE_DIR", str(tmp_path / "cache"))  # empty: every text is new
    result = CliRunner().invoke(main, ["reindex"])
    assert result.exit_code == 0, result.output
    assert "Embedding new texts" in result.output and list((tmp_path / "cache").glob("embeddings-*.npz"))
    again = CliRunner().invoke(main, ["reindex"])
    assert "Embedding new texts" not in again.output  # nothing new: the cache has it all


def test_import_article_marks_headings_and_reports_in_plain_plurals(runner, tmp_path):
    from test_cleaning import SCRAPE
    raw = tmp_path / "raw.txt"
    raw.write_text(SCRAPE)
    out = tmp_path / "new-corpus"  # created when missing
    result = runner.invoke(main, ["import-article", str(raw), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "2 passages of 8-22 words, 1 heading" in result.output
    text = (out / "what-to-expect-at-your-first-remedial-massage.md").read_text()
    assert "\n## During the massage\n" in text and "health, your injuries" in text
    (out / "extra").mkdir()
    one = tmp_path / "one.txt"
    one.write_text("Neck Care\n\nMassage eases a stiff neck.\n")
    result = runner.invoke(main, ["import-article", str(one), "--out", str(out / "extra")])
    assert "1 passage of 5 words, 0 headings" in result.output, result.output
    check = runner.invoke(main, ["check-corpus", str(out / "extra")])
    assert "1 passage of 5 words, 0 visitor questions" in check.output
    assert "1 document, 1 passage: corpus OK" in check.output


def test_ask_explain_prints_a_readable_table_not_json(runner):
    result = runner.invoke(main, ["ask", "--explain", "can it help siatica"])
    assert result.exit_code == 0, result.output
    why = result.output.split("--- why ---", 1)[1]
    assert "{" not in why and '"' not in why  # no raw JSON
    assert "decision     answer" in why and "safety       no rule matched" in why
    assert "spelling     siatica -> sciatica" in why
    assert "sciatica (typed 'siatica')  sciatica  as written  used" in why
    header = next(line for line in why.splitlines() if line.strip().startswith("#  score"))
    assert header.split() == ["#", "score", "BM25", "part", "meaning", "part", "BM25", "passage"]
    rows = [line.split() for line in why.splitlines() if line[:3] in ("  1", "  2", "  3") and "#" in line]
    assert len(rows) == 3
    for number, score, bm25_part, meaning_part, *_ in rows:
        assert round(float(bm25_part) + float(meaning_part), 4) == float(score)
    assert "1. BM25 " in why and "= terms " in why


def test_ask_explain_of_an_urgent_message_names_the_rule(runner):
    why = runner.invoke(main, ["ask", "--explain", "I have crushing chest pain"]).output.split("--- why ---", 1)[1]
    assert "decision     urgent" in why and "rule         urgent: chest pain" in why
    assert "Top passages" not in why
