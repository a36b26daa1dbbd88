"""The word filter catches the shipped words however they are written, and leaves ordinary words alone."""

from __future__ import annotations

import pytest

from smartrlp.core.wordfilter import WordFilter, normalise_for_display


@pytest.fixture(scope="module")
def word_filter() -> WordFilter:
    return WordFilter.shipped()


@pytest.mark.parametrize("text", ["Scheiße", "SCHEISSE", "5cheiße", "fück", "f.u.c.k", "s c h e i s s e", "Arschloch!"])
def test_blocked_in_any_spelling(word_filter: WordFilter, text: str) -> None:
    assert word_filter.blocks(text)


@pytest.mark.parametrize(
    "text", ["WLAN", "Bürgerbüro", "Glasfaser", "Sparkasse", "Spa steht", "Assessment", "Hausarzt", "a b c", "Schnitt"]
)
def test_ordinary_words_pass(word_filter: WordFilter, text: str) -> None:
    assert not word_filter.blocks(text)


def test_a_list_can_be_extended(word_filter: WordFilter) -> None:
    extended = word_filter.extended(["Bürokratiemonster", "amt*"])
    assert extended.blocks("bürokratiemonster")
    assert extended.blocks("Amtsschimmel")
    assert not word_filter.blocks("Amtsschimmel")


@pytest.mark.parametrize(
    ("raw", "shown"), [("  WLAN! ", "wlan"), ("Mehr   Glasfaser", "mehr glasfaser"), ("„Open Data“", "open data")]
)
def test_word_cloud_entries_are_normalised(raw: str, shown: str) -> None:
    assert normalise_for_display(raw) == shown
