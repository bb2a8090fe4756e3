from pathlib import Path

import pytest

from faqbot.knowledge.corpus import CorpusError, load_corpus, read_document


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


def test_shipped_corpus_is_clean():
    docs, problems = load_corpus("corpus")
    assert len(docs) == 5 and problems == []
    assert len({d.id for d in docs}) == 5
    for doc in docs:
        text = " ".join(b.text for b in doc.blocks)
        for artefact in ("Back to Home", "Posted on", "Full Article", "\u00a0", ". ."):
            assert artefact not in text, (doc.id, artefact)
        assert doc.title and all(b.text != doc.title for b in doc.blocks)


def test_front_matter_questions_and_headings(tmp_path):
    doc = read_document(write(tmp_path / "a.md", "---\nid: my-doc\ntitle: My Doc\n---\n\n## Part\n\n"
                              "Q: Does it hurt?\nQ: Is it firm?\nFirm pressure is used.\n"))
    assert (doc.id, doc.title) == ("my-doc", "My Doc")
    assert [b.kind for b in doc.blocks] == ["heading", "text"]
    assert doc.blocks[1].questions == ("Does it hurt?", "Is it firm?")


def test_plain_text_file_takes_first_line_as_title(tmp_path):
    doc = read_document(write(tmp_path / "opening-hours.txt",
                              "Our Clinic\n\nAbout Us\n\nWe are a small clinic by the harbour.\n"))
    assert doc.title == "Our Clinic" and doc.id == "opening-hours"
    assert doc.blocks[0].kind == "heading"


@pytest.mark.parametrize("name, content, problem", [
    ("empty.md", "", "empty"),
    ("blank.txt", "\n\n  \n", "empty"),
    ("latin1.md", "---\ntitle: Caf\xe9\n---\nText.".encode("latin-1"), "not UTF-8"),
    ("notitle.md", "Just a paragraph of text.\n", "missing title"),
    ("notitle.txt", "This first line is a sentence, not a title.\n\nMore text.\n", "missing title"),
])
def test_bad_files_are_named_with_the_problem(tmp_path, name, content, problem):
    write(tmp_path / name, content)
    with pytest.raises(CorpusError) as err:
        load_corpus(tmp_path)
    assert len(err.value.problems) == 1
    assert name in err.value.problems[0] and problem in err.value.problems[0]


def test_unreadable_file(tmp_path, monkeypatch):
    write(tmp_path / "secret.md", "# T\n\nText.\n")
    real = Path.read_bytes

    def denied(self):
        if self.name == "secret.md":
            raise PermissionError(13, "Permission denied")
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", denied)
    with pytest.raises(CorpusError) as err:
        load_corpus(tmp_path)
    assert err.value.problems == ["secret.md: unreadable (Permission denied)"]


def test_all_problems_listed_and_lenient_mode_serves_the_rest(tmp_path):
    write(tmp_path / "good.md", "# Good\n\nSome text.\n")
    write(tmp_path / "bad.md", "")
    write(tmp_path / "dup.md", "---\nid: good\n---\n# Dup\n\nText.\n")
    with pytest.raises(CorpusError) as err:
        load_corpus(tmp_path)
    assert len(err.value.problems) == 2
    docs, problems = load_corpus(tmp_path, strict=False)
    assert [d.id for d in docs] == ["good"] and len(problems) == 2


def test_missing_and_empty_directory(tmp_path):
    with pytest.raises(CorpusError, match="not found"):
        load_corpus(tmp_path / "nope")
    with pytest.raises(CorpusError, match="no .md or .txt"):
        load_corpus(tmp_path)


def test_an_optional_url_names_the_articles_public_page(tmp_path):
    doc = read_document(write(tmp_path / "a.md", "---\ntitle: A\nurl: https://clinic.example/blog/a\n---\n\nText here.\n"))
    assert doc.meta["url"] == "https://clinic.example/blog/a"


@pytest.mark.parametrize("url", ["javascript:alert(1)", "/blog/a", "clinic.example/a", "https://x.example/a b"])
def test_a_url_that_is_not_a_public_web_address_is_refused(tmp_path, url):
    with pytest.raises(CorpusError, match="a.md: 'url' must be"):
        read_document(write(tmp_path / "a.md", f"---\ntitle: A\nurl: {url}\n---\n\nText here.\n"))
