from faqbot.knowledge.corpus import Block, Document, load_corpus
from faqbot.knowledge.passages import MAX_WORDS, sentences, split_corpus, split_document


def doc(*blocks):
    return Document("d", "Doc Title", "d.md", tuple(blocks))


def test_abbreviations_do_not_end_sentences():
    text = "Dr. Smith uses e.g. effleurage vs. petrissage. It helps approx. 3 in 4 people."
    assert sentences(text) == ["Dr. Smith uses e.g. effleurage vs. petrissage.", "It helps approx. 3 in 4 people."]


def test_headings_belong_to_the_passages_under_them():
    passages = split_document(doc(Block("heading", "Better Circulation"),
                                  Block("text", "Poor circulation causes problems. Massage helps.")))
    assert len(passages) == 1
    assert passages[0].heading == "Better Circulation"
    assert passages[0].text.startswith("Poor circulation")
    assert (passages[0].doc_id, passages[0].doc_title) == ("d", "Doc Title")


def test_long_paragraph_is_split_at_sentences_into_balanced_passages():
    sentence = "This sentence has exactly ten words in it for the test."
    passages = split_document(doc(Block("text", " ".join([sentence] * 25))))
    sizes = [p.words for p in passages]
    assert all(s <= MAX_WORDS for s in sizes) and max(sizes) - min(sizes) <= 12
    assert all(p.text.endswith(".") for p in passages)


def test_short_paragraphs_merge_within_a_section_only():
    passages = split_document(doc(Block("heading", "A"), Block("text", "Short one."), Block("text", "Short two."),
                                  Block("heading", "B"), Block("text", "Other section.")))
    assert [(p.heading, p.text) for p in passages] == [("A", "Short one. Short two."), ("B", "Other section.")]


def test_questions_follow_their_paragraph():
    passages = split_document(doc(Block("text", "Firm pressure is used.", ("Does it hurt?",))))
    assert passages[0].questions == ("Does it hurt?",)


def test_shipped_corpus_passages_are_answer_sized():
    docs, _ = load_corpus("corpus")
    passages = split_corpus(docs)
    titles = {d.title for d in docs}
    assert all(p.text not in titles for p in passages)  # no bare titles
    sizes = sorted(p.words for p in passages)
    assert sizes[-1] <= MAX_WORDS and sizes[len(sizes) // 2] >= 40
    assert len({p.id for p in passages}) == len(passages)


def test_passages_keep_their_sentences_as_offsets_into_the_text():
    passages = split_document(doc(Block("text", "First one here. Second, with e.g. an abbreviation. Third!")))
    assert passages[0].sentences == ("First one here.", "Second, with e.g. an abbreviation.", "Third!")
    docs, _ = load_corpus("corpus")
    assert all(" ".join(p.sentences) == p.text and p.sentences for p in split_corpus(docs))


def test_a_passage_links_to_its_article_at_its_heading(tmp_path):
    from faqbot.knowledge.corpus import read_document
    from faqbot.knowledge.passages import split_document

    (tmp_path / "ours.md").write_text("---\ntitle: Ours\n---\n\nOpening text.\n\n## During the Massage\n\nMore text.\n")
    (tmp_path / "public.md").write_text("---\ntitle: Public\nurl: https://clinic.example/blog/public\n---\n\n"
                                        "Opening text.\n\n## Aftercare & Rest\n\nMore text.\n")
    ours = split_document(read_document(tmp_path / "ours.md"))
    assert [p.url for p in ours] == ["/articles/ours", "/articles/ours#during-the-massage"]
    public = split_document(read_document(tmp_path / "public.md"))
    assert [p.url for p in public] == ["https://clinic.example/blog/public",
                                       "https://clinic.example/blog/public#aftercare-rest"]
