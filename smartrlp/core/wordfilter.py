"""The word filter: keeps abusive words off public screens (word-cloud answers are refused, questions held).

The lists ship in `smartrlp/wordlists/*.txt`. Text and list entries are normalised the same way, so that
"F*CK", "fück" or "5cheiße" do not slip through a case- or look-alike-sensitive comparison.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

WORDLIST_DIR = Path(__file__).resolve().parent.parent / "wordlists"

# Digits and signs people use to write round a filter.
_LOOKALIKES = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"})
_WORD = re.compile(r"[^\W\d_]+")
_SPACE = re.compile(r"\s+")
# "!" stands for "i" only inside a word ("sh!t"); at a word's end it is punctuation ("Karte!" is not "kartei").
_EXCLAIM = re.compile(r"!+(?![^\W\d_])")


def tidy_word(text: str) -> str:
    """A word-cloud entry as stored and shown: NFKC, one space, no surrounding punctuation, its spelling kept
    ("WLAN", "Bürgernähe"); the cloud groups entries by `word_key`."""
    text = _SPACE.sub(" ", unicodedata.normalize("NFKC", text)).strip()
    return text.strip(" .,;:!?\"'«»„“”‚‘’()[]{}-–—")


def word_key(word: str) -> str:
    """What word-cloud entries are grouped by: the entry without regard to case ("wlan" is "WLAN")."""
    return word.casefold()


def normalise_for_display(text: str) -> str:
    """A word-cloud entry in lower case (as entries were stored before they kept their spelling)."""
    return tidy_word(text).lower()


def _fold(text: str) -> str:
    text = _EXCLAIM.sub(" ", unicodedata.normalize("NFKC", text).casefold()).translate(_LOOKALIKES)
    text = text.replace("ß", "ss")
    # Umlauts folded to their base letter, so "fück" meets "fuck" and "scheiße" meets "scheisse".
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


@dataclass(frozen=True, slots=True)
class WordFilter:
    exact: frozenset[str]
    prefixes: tuple[str, ...]
    # Entries of several words ("dumme sau"), as folded words; caught only as that sequence of words.
    phrases: frozenset[tuple[str, ...]] = frozenset()

    @classmethod
    def from_entries(cls, entries: Iterable[str]) -> WordFilter:
        exact: set[str] = set()
        prefixes: set[str] = set()
        phrases: set[tuple[str, ...]] = set()
        for raw in entries:
            entry = raw.strip()
            if not entry or entry.startswith("#"):
                continue
            words = tuple(_WORD.findall(_fold(entry.rstrip("*"))))
            if not words:
                continue
            if len(words) > 1:
                phrases.add(words)
            elif entry.endswith("*"):
                prefixes.add(words[0])
            else:
                exact.add(words[0])
        return cls(frozenset(exact), tuple(sorted(prefixes)), frozenset(phrases))

    @classmethod
    def shipped(cls) -> WordFilter:
        entries: list[str] = []
        for path in sorted(WORDLIST_DIR.glob("*.txt")):
            entries.extend(path.read_text(encoding="utf-8").splitlines())
        return cls.from_entries(entries)

    def extended(self, entries: Iterable[str]) -> WordFilter:
        more = WordFilter.from_entries(entries)
        return WordFilter(
            self.exact | more.exact, tuple(sorted(set(self.prefixes) | set(more.prefixes))), self.phrases | more.phrases
        )

    def matches(self, text: str) -> list[str]:
        """The words of `text` the filter catches (empty when the text is fine)."""
        folded = _fold(text)
        words = _WORD.findall(folded)
        # Letters spelt out one by one ("f.u.c.k", "s c h e i s s e") are caught as one word.
        singles = [w for w in words if len(w) == 1]
        candidates = [*words, "".join(singles)] if len(singles) > 2 else words
        found = []
        for word in candidates:
            if (word in self.exact or word.startswith(self.prefixes)) and word not in found:
                found.append(word)
        for phrase in self.phrases:
            size = len(phrase)
            if any(tuple(words[i : i + size]) == phrase for i in range(len(words) - size + 1)):
                found.append(" ".join(phrase))
        return found

    def blocks(self, text: str) -> bool:
        return bool(self.matches(text))
