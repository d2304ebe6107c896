"""Ranking and snippets for message search (pure functions)."""

from __future__ import annotations

from bluesdesk.store.search_text import SNIPPET_CHARS, Terms, fold, rank, snippet


def test_fold_matches_the_fts_tokenizer_for_case_and_accents() -> None:
    assert fold("Café") == "cafe"
    assert fold("NAÏVE") == "naive"
    assert fold("Straße") == "strasse"
    assert Terms.parse("  Crème brûlée!  ").words == ("creme", "brulee")


def test_the_last_word_is_a_prefix_the_others_whole_words() -> None:
    terms = Terms.parse("river del")
    river, delta = terms.patterns()
    assert len(river.findall("river rivers riverbank river")) == 2
    assert len(delta.findall("delta deltas del")) == 3


def test_rank_prefers_frequent_words_in_short_messages_then_newer() -> None:
    terms = Terms.parse("river")
    rows = [
        (1, "a river"),
        (2, "river river river delta"),
        (3, "a long note that mentions the river only once among many other words"),
        (4, "a river"),
    ]
    assert rank(terms, rows, 10) == [2, 4, 1, 3]
    assert rank(terms, rows, 2) == [2, 4]
    assert rank(terms, [], 5) == []


def test_rank_reads_accented_text() -> None:
    terms = Terms.parse("cafe")
    assert rank(terms, [(1, "tea"), (2, "Café, café, CAFÉ")], 1) == [2]


def test_snippet_brackets_hits_and_marks_cuts() -> None:
    terms = Terms.parse("quick fox")
    text = " ".join(f"w{i}" for i in range(40)) + " the quick brown fox jumps " + "end " * 30
    cut = snippet(terms, text)
    assert "[quick]" in cut and "[fox]" in cut
    assert cut.startswith("…") and cut.endswith("…")
    assert len(cut.split()) <= 12


def test_snippet_of_short_text_and_newlines() -> None:
    terms = Terms.parse("tea")
    assert snippet(terms, "Green\n\ntea   please") == "Green [tea] please"
    assert snippet(terms, "") == ""
    huge = "tea " + "x" * (SNIPPET_CHARS * 2)
    assert snippet(terms, huge).startswith("[tea]")
