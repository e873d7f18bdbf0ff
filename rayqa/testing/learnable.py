"""Small, seeded, learnable QA tasks with held-out splits, for the learning tests.

Every task is built from made-up facts ``<name> <relation> <value>`` written with the
templates of three languages (English, German, Russian: two scripts). Names and values
are words of syllables; the train and dev splits draw names (and, but for mGEN, values)
from disjoint word sets, so a dev question is answered only by a model that learned the
task, not the words.

- ``reader_task``: SQuAD examples; the context is one fact among filler sentences, the
  question asks it and the answer is the value's span (beside a name just as new).
- ``alignment_task``: ``reader_task``'s examples with a translated answer: the value
  respelled and garbled as a back-translation garbles a name (``noisy_answer``), for
  the Answer Aligner.
- ``retrieval_task``: DPR JSONL rows; the positive passage states the asked fact (the
  person is its title), the hard negative the same relation of another person.
- ``generation_task``: mGEN JSONL rows; the passage states the asked fact, the answer
  is one of a closed set of values, so it must be read from the passage.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass

from rayqa.data.squad import QAExample

LANGS = ("en", "de", "ru")

# Syllables of the made-up words, per script; a word is two or three of them.
_LATIN = ("ka", "lo", "mi", "ter", "san", "vo", "ri", "bel", "du", "nar", "po", "zen",
          "fa", "gur", "hel", "jo", "mus", "ti")
_CYRILLIC = ("ка", "ло", "ми", "тер", "сан", "во", "ри", "бел", "ду", "нар", "по", "зен",
             "фа", "гур", "хел", "йо", "мус", "ти")
SYLLABLES = {"en": _LATIN, "de": _LATIN, "ru": _CYRILLIC}

# (statement, question) per relation and language; {name} and {value} are filled in.
TEMPLATES = {
    "en": {"home": ("{name} lives in {value}.", "Where does {name} live?"),
           "work": ("{name} works at {value}.", "Where does {name} work?"),
           "birth": ("{name} was born in {value}.", "Where was {name} born?"),
           "pet": ("{name} has a dog called {value}.", "What is the dog of {name} called?")},
    "de": {"home": ("{name} wohnt in {value}.", "Wo wohnt {name}?"),
           "work": ("{name} arbeitet bei {value}.", "Wo arbeitet {name}?"),
           "birth": ("{name} wurde in {value} geboren.", "Wo wurde {name} geboren?"),
           "pet": ("{name} hat einen Hund namens {value}.", "Wie heißt der Hund von {name}?")},
    "ru": {"home": ("{name} живёт в {value}.", "Где живёт {name}?"),
           "work": ("{name} работает в {value}.", "Где работает {name}?"),
           "birth": ("{name} родился в {value}.", "Где родился {name}?"),
           "pet": ("У {name} есть собака {value}.", "Как зовут собаку {name}?")},
}
RELATIONS = ("home", "work", "birth", "pet")


@dataclass
class Person:
    """One made-up person: a name and a value per relation, in one language."""

    name: str
    lang: str
    values: dict[str, str]

    def question(self, relation: str) -> str:
        """The question asking this person's `relation`."""
        return TEMPLATES[self.lang][relation][1].format(name=self.name)


class Lexicon:
    """Made-up words of each language, split into disjoint train and dev sets.

    Args:
        seed: Seed of the word draw.
        words_per_split: Distinct words per language and split.
    """

    def __init__(self, seed: int, words_per_split: int = 400):
        rng = random.Random(seed)
        self.words: dict[tuple[str, str], list[str]] = {}
        for lang in LANGS:
            pool = sorted(_all_words(SYLLABLES[lang]))
            rng.shuffle(pool)
            if len(pool) < 2 * words_per_split:
                raise ValueError(f"only {len(pool)} distinct words for {lang}")
            self.words[lang, "train"] = pool[:words_per_split]
            self.words[lang, "dev"] = pool[words_per_split:2 * words_per_split]

    def person(self, lang: str, split: str, rng: random.Random) -> Person:
        """A person whose name and values are distinct words of `split`."""
        name, *values = rng.sample(self.words[lang, split], 1 + len(RELATIONS))
        return Person(name, lang, dict(zip(RELATIONS, values)))


def _all_words(syllables: tuple[str, ...]) -> set[str]:
    """Every capitalized word of two or three distinct syllables."""
    words = {a + b for a in syllables for b in syllables if a != b}
    words |= {a + b + c for a in syllables for b in syllables for c in syllables
              if len({a, b, c}) == 3}
    return {w.capitalize() for w in words}


def _people(lexicon: Lexicon, split: str, count: int, rng: random.Random):
    """`count` (language, asked person, distractor person, relation) draws, languages
    taking turns."""
    for index in range(count):
        lang = LANGS[index % len(LANGS)]
        asked, other = lexicon.person(lang, split, rng), lexicon.person(lang, split, rng)
        while other.name in asked.values.values() or asked.name in other.values.values():
            other = lexicon.person(lang, split, rng)
        yield lang, asked, other, rng.choice(RELATIONS)


# Sentences around the asked fact in reader contexts: no made-up words in them.
FILLERS = {
    "en": ("The weather was fine that day.", "Nobody remembers the old market.",
           "Trains stop here twice an hour.", "The river is wide and slow."),
    "de": ("Das Wetter war an dem Tag schön.", "Niemand erinnert sich an den alten Markt.",
           "Die Züge halten hier zweimal pro Stunde.", "Der Fluss ist breit und langsam."),
    "ru": ("В тот день была хорошая погода.", "Никто не помнит старый рынок.",
           "Поезда останавливаются здесь дважды в час.", "Река широкая и медленная."),
}


def reader_task(seed: int, split: str, count: int, fillers: int = 2) -> list[QAExample]:
    """Extractive examples: one fact among filler sentences, that fact asked.

    The answer is the value, a made-up word like the person's name beside it: a model
    must learn where a sentence of each relation puts its value.

    Args:
        seed: Seed of the words and the draws (use the same one for both splits).
        split: ``train`` or ``dev``: which disjoint word set names and values come from.
        count: Questions, languages taking turns.
        fillers: Filler sentences per context.
    """
    lexicon = Lexicon(seed)
    rng = random.Random(f"{seed}:{split}:reader")
    examples = []
    for index, (lang, asked, _, relation) in enumerate(_people(lexicon, split, count, rng)):
        statement = TEMPLATES[lang][relation][0].format(name=asked.name,
                                                        value=asked.values[relation])
        sentences = rng.sample(FILLERS[lang], fillers)
        sentences.insert(rng.randrange(fillers + 1), statement)
        context = " ".join(sentences)
        # Past the name: a value may be a prefix of the name ("Kalo", "Kalomi").
        after_name = context.index(statement) + statement.index(asked.name) + len(asked.name)
        answer = asked.values[relation]
        start = context.index(answer, after_name)
        examples.append(QAExample(f"{split}-{index}", asked.question(relation), context,
                                  [{"text": answer, "answer_start": start}],
                                  title=f"{split}-{index}", lang=lang))
    return examples


# How a translation might respell a syllable (the alignment task's "synonyms"), per script.
_RESPELLINGS = {
    "en": {"ka": "ca", "ter": "tar", "vo": "wo", "ri": "ry", "du": "do", "zen": "sen",
           "fa": "pha", "jo": "yo", "ti": "ty", "mus": "moos"},
    "ru": {"ка": "ко", "тер": "тар", "во": "ва", "ри": "ры", "ду": "до", "зен": "сен",
           "фа": "фо", "йо": "ё", "ти": "ты", "мус": "муз"},
}
RESPELLINGS = {lang: {**table, **{k.capitalize(): v.capitalize() for k, v in table.items()}}
               for lang, table in (("en", _RESPELLINGS["en"]), ("de", _RESPELLINGS["en"]),
                                   ("ru", _RESPELLINGS["ru"]))}


def alignment_task(seed: int, split: str, count: int, drop_prob: float = 0.15,
                   add_prob: float = 0.15) -> list[QAExample]:
    """``reader_task``'s examples, each with a ``translated_answer``: the gold value with
    syllables respelled (``RESPELLINGS``, each with probability 0.5), then characters
    dropped and added (`noisy_answer`, letters of the value's script), seeded. An Answer
    Aligner must find the gold span from it; a character match (SimpleMatch) is misled
    by the garbling into longer or shorter windows and into the name beside the value."""
    rng = random.Random(f"{seed}:{split}:alignment")
    examples = reader_task(seed, split, count)
    for example in examples:
        gold = example.answers[0]["text"]
        letters = "".join(sorted(set("".join(SYLLABLES[example.lang]))))
        example.translated_answer = noisy_answer(gold, rng, RESPELLINGS[example.lang],
                                                 drop_prob=drop_prob, add_prob=add_prob,
                                                 alphabet=letters)
    return examples


def noisy_answer(gold: str, rng: random.Random, synonyms: Mapping[str, str],
                 swap_prob: float = 0.5, drop_prob: float = 0.1, add_prob: float = 0.1,
                 alphabet: str | None = None) -> str:
    """A synthetic "translated answer": the gold answer with translation-like noise.

    First synonyms are swapped: the text is scanned left to right and at each position
    the longest key of ``synonyms`` found there is replaced by its value with probability
    ``swap_prob`` (replaced text is not scanned again). Then each character is dropped with
    probability ``drop_prob``, and after each kept character one character of ``alphabet``
    is added with probability ``add_prob``. When any probability is nonzero and the
    result still equals the gold, one forced edit (a drop, or an addition for a
    one-character answer) makes it differ; the result is never empty.

    Args:
        gold: The gold answer.
        rng: The random source; the same seed gives the same noise.
        synonyms: Word (or phrase) -> replacement, e.g. ``{"cat": "kitten"}``.
        swap_prob: Probability of each synonym swap.
        drop_prob: Probability of dropping each character.
        add_prob: Probability of adding a character after each kept one.
        alphabet: Characters to add; by default the gold's own non-space characters.

    Returns:
        The noisy answer.
    """
    if not gold:
        raise ValueError("gold answer is empty")
    chars = sorted(set(alphabet if alphabet is not None else gold) - set(" \t\n")) or [gold[0]]
    text = _swap_synonyms(gold, rng, synonyms, swap_prob)
    noisy = []
    for char in text:
        if rng.random() >= drop_prob:
            noisy.append(char)
            if rng.random() < add_prob:
                noisy.append(rng.choice(chars))
    result = "".join(noisy) or text[rng.randrange(len(text))]
    if result == gold and max(swap_prob, drop_prob, add_prob) > 0:
        result = _forced_edit(result, rng, chars)
    return result


def _swap_synonyms(text: str, rng: random.Random, synonyms: Mapping[str, str],
                   swap_prob: float) -> str:
    keys = sorted((key for key in synonyms if key), key=len, reverse=True)
    out, i = [], 0
    while i < len(text):
        key = next((key for key in keys if text.startswith(key, i)), None)
        if key is not None and rng.random() < swap_prob:
            out.append(synonyms[key])
            i += len(key)
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _forced_edit(text: str, rng: random.Random, chars: list[str]) -> str:
    """Drops one character, or adds one to a one-character text."""
    if len(text) > 1:
        i = rng.randrange(len(text))
        return text[:i] + text[i + 1:]
    extra = [char for char in chars if char != text] or [text]
    return text + rng.choice(extra)


def retrieval_task(seed: int, split: str, count: int) -> list[dict]:
    """DPR JSONL rows: a question about one fact of a person; the positive states that
    fact (the person is its title), the hard negative the same relation of another person
    of the same language, so only the name tells them apart."""
    lexicon = Lexicon(seed)
    rng = random.Random(f"{seed}:{split}:retrieval")
    rows = []
    for index, (lang, asked, other, relation) in enumerate(_people(lexicon, split, count, rng)):
        rows.append({"id": f"{split}-{index}", "question": asked.question(relation),
                     "lang": lang, "answers": [asked.values[relation]],
                     "positive_ctxs": [_passage(asked, relation)],
                     "hard_negative_ctxs": [_passage(other, relation)]})
    return rows


def _passage(person: Person, relation: str) -> dict:
    statement = TEMPLATES[person.lang][relation][0]
    return {"title": person.name,
            "text": statement.format(name=person.name, value=person.values[relation])}


def generation_task(seed: int, split: str, count: int, values: int = 8) -> list[dict]:
    """mGEN JSONL rows: a passage stating one fact of a person, the question asking it.

    Names come from the split's word set; values from a closed set of ``values`` words
    per language shared by both splits, so a dev answer is a word the model has
    generated in training, but for a person it never saw: it must be read from the
    passage (a constant answer scores ``1 / values``).
    """
    lexicon = Lexicon(seed)
    rng = random.Random(f"{seed}:{split}:generation")
    closed = {lang: lexicon.words[lang, "train"][-values:] for lang in LANGS}
    rows = []
    for index in range(count):
        lang = LANGS[index % len(LANGS)]
        name = rng.choice(lexicon.words[lang, split][:-values])
        relation, value = rng.choice(RELATIONS), rng.choice(closed[lang])
        statement = TEMPLATES[lang][relation][0].format(name=name, value=value)
        rows.append({"id": f"{split}-{index}",
                     "question": TEMPLATES[lang][relation][1].format(name=name),
                     "lang": lang, "answers": [value],
                     "ctxs": [{"title": name, "text": statement}]})
    return rows
