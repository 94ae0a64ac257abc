"""The catalog: a validated content library, built once per load and never changed.

Lookups by id, feeling, area, theme and region; search for autocomplete; and
`recommend`, which orders techniques for a member's feelings. A reload builds a new
Catalog and swaps the reference, so a command never sees half of two libraries.

Techniques and stories are kept compressed and built again when looked up by id
(`CompactItems`); whatever concerns many of them at once is answered from indexes made
when the catalog is built.

Long (about 850 lines) because the indexes, the compact item store and the ranking that
reads them are one data structure: `recommend_ids` and the search read the indexes
`LibraryItems` builds, in the layout it builds them.
"""

from __future__ import annotations

import bisect
import functools
import heapq
import random
import unicodedata
import zlib
from array import array
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence, ValuesView
from dataclasses import dataclass
from fractions import Fraction
from itertools import chain
from types import MappingProxyType
from typing import TypeVar, overload

from bot.domain.content import (
    Area,
    Audience,
    ContentWarning,
    Feeling,
    Prompt,
    PromptKind,
    ResourceRegion,
    Story,
    Technique,
    Theme,
    Vocabulary,
)
from bot.domain.crisis import CrisisSet
from bot.domain.feeling_reader import FeelingReader
from bot.domain.server_settings import INTERNATIONAL, crisis_region
from bot.domain.text import cut

AUTOCOMPLETE_LIMIT = 25
# The most feelings one request is ranked for (a check-in also takes up to three).
MAX_FEELINGS = 3
# How much a named feeling adds to a technique's fit. `main` lists feelings best first:
# the first main feeling counts MAIN_FIT, each later one a step less, down to MAIN_FLOOR;
# a feeling it also helps with counts ALSO_FIT. Any main feeling outweighs every feeling
# a member could name (at most three) that it only also helps with.
MAIN_FIT = 8
MAIN_FLOOR = 5
ALSO_FIT = 1
# The ranking prior of a technique without published votes (`bot.domain.votes.score`).
_NO_VOTES = Fraction(1, 2)


def fold(text: str) -> str:
    """Case- and accent-insensitive form used for matching."""
    if text.isascii():  # most names and queries: nothing to decompose
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _trigrams(text: str) -> set[str]:
    padded = f"  {text} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


_ITEM = "I"  # item numbers: unsigned, at least 4 bytes


def _posting() -> array[int]:
    return array(_ITEM)


@dataclass(frozen=True)
class SearchHit:
    key: str  # the value a choice carries (an id)
    label: str  # what the member sees, at most 100 characters


class SearchIndex:
    """Ranked search: exact name, whole-name prefix, word prefix, substring, then fuzzy.

    Everything a query needs is prepared when the index is built: names sorted for binary
    search (prefix and word-prefix hits come out already in order, so a search stops at
    the limit instead of sorting thousands), a trigram index that narrows substring and
    fuzzy candidates without scanning every name, and the order for an empty query.

    Item numbers are kept in arrays of 4-byte integers rather than lists or sets: a large
    library has over a million trigram postings, and as sets of Python ints they were the
    biggest thing the bot kept in memory.
    """

    def __init__(self, entries: Iterable[tuple[str, str, Sequence[str]]]) -> None:
        # entries: (key, label, extra names such as the id or synonyms)
        keys: list[str] = []
        labels: list[str] = []
        folded: list[str] = []
        names: list[tuple[str, int]] = []
        words: defaultdict[str, array[int]] = defaultdict(_posting)
        grams: defaultdict[str, array[int]] = defaultdict(_posting)
        for index, (key, label, extra) in enumerate(entries):
            keys.append(key)
            labels.append(cut(label))
            all_names = [fold(label), *(fold(e) for e in extra)]
            folded.append(" | ".join(all_names))
            item_words: set[str] = set()
            item_grams: set[str] = set()
            for name in all_names:
                names.append((name, index))
                item_words.update(name.replace("-", " ").split())
                item_grams.update(_trigrams(name))
            # Appended in item order, so every posting is sorted.
            for word in item_words:
                words[word].append(index)
            for gram in item_grams:
                grams[gram].append(index)
        names.sort()
        self._keys = keys
        self._labels = labels
        self._folded = folded
        self._name_keys = [n for n, _ in names]
        self._name_items = array(_ITEM, [i for _, i in names])
        # Each distinct word once, sorted, with the items using it: word k's items are
        # `_word_items[_word_starts[k] : _word_starts[k + 1]]`.
        self._word_keys = sorted(words)
        self._word_items = array(_ITEM)
        self._word_starts = array(_ITEM, [0])
        for word in self._word_keys:
            self._word_items.extend(words[word])
            self._word_starts.append(len(self._word_items))
        self._grams: dict[str, array[int]] = dict(grams)
        # A two-letter query is in a name exactly when a trigram of the name starts with it.
        starting: defaultdict[str, list[str]] = defaultdict(list)
        for gram in self._grams:
            if " " not in gram[:2]:
                starting[gram[:2]].append(gram)
        self._grams_starting = {pair: tuple(found) for pair, found in starting.items()}
        order = sorted(range(len(keys)), key=labels.__getitem__)
        self._alphabetical = array(_ITEM, order)
        self._rank = array(_ITEM, bytes(array(_ITEM).itemsize * len(order)))
        for position, index in enumerate(order):
            self._rank[index] = position
        # A trigram found in more than this many names says little about a typo.
        self._common = max(50, len(keys) // 20)

    def __len__(self) -> int:
        return len(self._keys)

    @staticmethod
    def _range(keys: list[str], items: array[int], query: str, *, exact: bool) -> Iterator[int]:
        for i in range(bisect.bisect_left(keys, query), len(keys)):
            key = keys[i]
            if key != query if exact else not key.startswith(query):
                return
            yield items[i]

    def search(self, query: str, limit: int = AUTOCOMPLETE_LIMIT) -> list[SearchHit]:
        q = fold(query).strip()
        if not q:
            return self._hits(self._alphabetical[:limit])
        ranked: list[int] = []
        seen: set[int] = set()

        def take(indexes: Iterable[int]) -> bool:
            for i in indexes:
                if i not in seen:
                    seen.add(i)
                    ranked.append(i)
                    if len(ranked) >= limit:
                        return True
            return False

        if take(self._range(self._name_keys, self._name_items, q, exact=True)):
            return self._hits(ranked)
        if take(self._range(self._name_keys, self._name_items, q, exact=False)):
            return self._hits(ranked)
        # Several words: look up the longest (fewest names start a word with it), and keep
        # names that also contain the others.
        words = q.split()
        longest = max(words, key=len)
        others = [w for w in words if w is not longest]
        word_hits: Iterable[int] = self._starting_a_word(longest)
        if others and not all(self._may_contain(w) for w in others):
            word_hits = ()
        elif others:
            word_hits = (i for i in word_hits if all(w in self._folded[i] for w in others))
        if take(word_hits):
            return self._hits(ranked)
        if take(self._containing(q)):
            return self._hits(ranked)
        take(self._fuzzy(q, limit))
        return self._hits(ranked)

    def _starting_a_word(self, prefix: str) -> Iterator[int]:
        """Items with a word starting with `prefix`: by word, then in item order."""
        keys, items, starts = self._word_keys, self._word_items, self._word_starts
        for k in range(bisect.bisect_left(keys, prefix), len(keys)):
            if not keys[k].startswith(prefix):
                return
            yield from items[starts[k] : starts[k + 1]]

    def _may_contain(self, text: str) -> bool:
        """False when some name would have to hold a trigram that no name holds."""
        return all(text[i : i + 3] in self._grams for i in range(len(text) - 2))

    def _containing(self, q: str) -> Iterator[int]:
        """Names containing the query anywhere, in alphabetical order."""
        if len(q) < 2:
            return
        if len(q) < 3:
            starting = self._grams_starting.get(q, ())
            yield from self._in_order(set().union(*(self._grams[g] for g in starting)))
            return
        # Every name containing the query holds all of its trigrams; not the padded ones
        # at its ends, though: the query may start or stop in the middle of a word.
        postings: list[array[int]] = []
        for gram in {q[i : i + 3] for i in range(len(q) - 2)}:
            posting = self._grams.get(gram)
            if posting is None:
                return
            postings.append(posting)
        postings.sort(key=len)
        # The three rarest trigrams narrow the candidates enough; the `in` test is exact.
        candidates = set(postings[0])
        for posting in postings[1:3]:
            candidates.intersection_update(posting)
        folded = self._folded
        yield from self._in_order([i for i in candidates if q in folded[i]])

    def _in_order(self, found: Collection[int]) -> Iterator[int]:
        """These items, alphabetically."""
        if len(found) * 8 > len(self._alphabetical):
            # Many: walking the whole order is cheaper than sorting them, and stops early.
            members = found if isinstance(found, set) else set(found)
            yield from (i for i in self._alphabetical if i in members)
        else:
            yield from sorted(found, key=self._rank.__getitem__)

    def _fuzzy(self, q: str, limit: int) -> list[int]:
        query_grams = _trigrams(q)
        postings = [self._grams[g] for g in query_grams if g in self._grams]
        telling = [p for p in postings if len(p) <= self._common] or postings
        scores = Counter(chain.from_iterable(telling))
        # A candidate must share at least a third of the query's informative trigrams.
        # Best score first; ties alphabetically.
        # Grams no name holds count too (they are often the typo); very common ones do not.
        informative = len(query_grams) - (len(postings) - len(telling))
        floor = max(1, informative // 3)
        ranked = scores.most_common()
        rank = self._rank.__getitem__
        best: list[int] = []
        start = 0
        while start < len(ranked) and len(best) < limit and ranked[start][1] >= floor:
            score = ranked[start][1]
            end = start
            while end < len(ranked) and ranked[end][1] == score:
                end += 1
            tied = [i for i, _ in ranked[start:end]]
            best.extend(heapq.nsmallest(limit - len(best), tied, key=rank))
            start = end
        return best

    def _hits(self, indexes: Iterable[int]) -> list[SearchHit]:
        return [SearchHit(self._keys[i], self._labels[i]) for i in indexes]


# Built techniques and stories kept for lookups by id; the rest stay compressed until asked
# for. A few hundred covers every card a busy server opens within minutes.
ITEM_CACHE_SIZE = 256
# Items are compressed eight to a block: the texts of one library share words, and every
# item the same field names, so on the shipped content a block takes a fifth less room
# than its items compressed one by one, in 60% of the time. Reading an item back
# decompresses its whole block: under a tenth of a millisecond.
BLOCK_ITEMS = 8
_ZLIB_LEVEL = 1  # level 6 saves another tenth of the room, and takes twice as long
_OFFSET_BITS = 32  # for an item's start and end in its block

Item = TypeVar("Item", Technique, Story)


class _Blocks:
    """The compressed blocks of one `CompactItems`, and where each item is in them."""

    def __init__(self) -> None:
        self.sealed: list[bytes] = []
        self.where: dict[str, int] = {}  # block << 2 * _OFFSET_BITS | start << _OFFSET_BITS | end
        self.open: list[bytes] = []  # JSON of the items that will make the next block
        self.open_size = 0
        # The last block decompressed, so a pass over every item reads each block once.
        self.last: tuple[int, bytes] = (-1, b"")

    def add(self, key: str, data: bytes) -> None:
        start = self.open_size
        self.open.append(data)
        self.open_size += len(data)
        self.where[key] = (
            len(self.sealed) << 2 * _OFFSET_BITS | start << _OFFSET_BITS | self.open_size
        )
        if len(self.open) >= BLOCK_ITEMS:
            self.seal()

    def seal(self) -> None:
        if self.open:
            self.sealed.append(zlib.compress(b"".join(self.open), _ZLIB_LEVEL))
            self.open = []
            self.open_size = 0

    def data(self, key: str) -> bytes:
        where = self.where[key]
        block = where >> 2 * _OFFSET_BITS
        start = where >> _OFFSET_BITS & ((1 << _OFFSET_BITS) - 1)
        end = where & ((1 << _OFFSET_BITS) - 1)
        if block == len(self.sealed):
            raw = b"".join(self.open)
        else:
            last_block, raw = self.last
            if last_block != block:
                raw = zlib.decompress(self.sealed[block])
                self.last = (block, raw)
        return raw[start:end]


def _decode(model: type[Item], blocks: _Blocks, key: str) -> Item:
    return model.model_validate_json(blocks.data(key))


class CompactItems(Mapping[str, Item]):
    """Techniques or stories by id, kept as compressed JSON and built again when asked
    for; the most recently used stay built.

    A large library's models, with all their text, took more memory than the rest of the
    bot together. An item is validated again when it is built, which costs about a tenth
    of a millisecond: fine for the few a command shows, not for looping over thousands,
    so the catalog answers questions about many items (by feeling, area, tag, theme or
    content warning) from its own indexes instead.
    """

    def __init__(self, model: type[Item], items: Iterable[Item] = ()) -> None:
        self._model: type[Item] = model
        self._blocks = _Blocks()
        # functools' cache is thread-safe, and holds the blocks rather than `self`, so a
        # replaced catalog is freed as soon as nothing refers to it.
        self._cached: functools._lru_cache_wrapper[Item] = functools.lru_cache(
            maxsize=ITEM_CACHE_SIZE
        )(functools.partial(_decode, model, self._blocks))
        for item in items:
            self.add(item)
        self.seal()

    def add(self, item: Item) -> None:
        """Store an item; a later one with the same id replaces it, as in a dict."""
        if item.id in self._blocks.where:
            self._cached.cache_clear()
        self._blocks.add(item.id, self._model.__pydantic_serializer__.to_json(item))

    def seal(self) -> None:
        """Compress the items added since the last full block; done adding, for now."""
        self._blocks.seal()

    def __getitem__(self, key: str) -> Item:
        if key not in self._blocks.where:
            raise KeyError(key)
        return self._cached(key)

    def __contains__(self, key: object) -> bool:
        return key in self._blocks.where

    def __iter__(self) -> Iterator[str]:
        return iter(self._blocks.where)

    def __len__(self) -> int:
        return len(self._blocks.where)

    def values(self) -> ValuesView[Item]:
        return _UncachedValues(self)

    def _build(self, key: str) -> Item:
        return _decode(self._model, self._blocks, key)


class _UncachedValues(ValuesView[Item]):
    """Every item, built one at a time and not cached: a pass over all of them would
    otherwise push out the ones members are looking at."""

    _mapping: CompactItems[Item]

    def __iter__(self) -> Iterator[Item]:
        for key in self._mapping:
            yield self._mapping._build(key)


class RankedItems(Sequence[Item]):
    """Items in a given order, each built only when it is reached."""

    def __init__(self, items: Mapping[str, Item], ids: Sequence[str]) -> None:
        self._items: Mapping[str, Item] = items
        self.ids = ids

    def __len__(self) -> int:
        return len(self.ids)

    @overload
    def __getitem__(self, index: int) -> Item: ...
    @overload
    def __getitem__(self, index: slice) -> RankedItems[Item]: ...
    def __getitem__(self, index: int | slice) -> Item | RankedItems[Item]:
        if isinstance(index, slice):
            return RankedItems(self._items, self.ids[index])
        return self._items[self.ids[index]]

    def __iter__(self) -> Iterator[Item]:
        for item_id in self.ids:
            yield self._items[item_id]


class LibraryItems:
    """Techniques and stories added one at a time, each stored compactly as it comes, so
    a load never holds the whole library as models. `Catalog.from_items` makes a catalog
    of them; what its indexes need of each item is gathered here as it is added."""

    def __init__(self) -> None:
        self.techniques: CompactItems[Technique] = CompactItems(Technique)
        self.stories: CompactItems[Story] = CompactItems(Story)
        self.replaced = False  # an id was added twice: its indexes would list it twice
        self._titles: list[str] = []  # of the techniques, in the order added
        # Techniques for members themselves, by main feeling and by feeling helped also;
        # how well each fits a feeling (see MAIN_FIT).
        self._fit: dict[tuple[str, str], int] = {}
        self._by_feeling: defaultdict[str, list[str]] = defaultdict(list)
        self._also_by_feeling: defaultdict[str, list[str]] = defaultdict(list)
        # Techniques for someone supporting another person: offered only when asked for.
        self._for_supporters: list[str] = []
        self._supporter_feelings: defaultdict[str, list[str]] = defaultdict(list)
        self._by_area: defaultdict[Area, list[str]] = defaultdict(list)
        self._by_tag: defaultdict[str, list[str]] = defaultdict(list)
        self._areas: dict[str, int] = {}  # technique id → its areas, one bit each
        self._minutes: dict[str, int] = {}  # technique id → how long it takes
        self._by_theme: defaultdict[str, list[str]] = defaultdict(list)
        self._story_warnings: dict[str, frozenset[ContentWarning]] = {}
        self._stories_for: defaultdict[str, list[str]] = defaultdict(list)

    def add_technique(self, technique: Technique) -> None:
        technique_id = technique.id
        self.replaced = self.replaced or technique_id in self.techniques
        self.techniques.add(technique)
        self._titles.append(technique.title)
        if technique.audience is Audience.SELF:
            for place, feeling in enumerate(technique.helps_with.main):
                self._by_feeling[feeling].append(technique_id)
                self._fit[technique_id, feeling] = max(MAIN_FLOOR, MAIN_FIT - place)
            for feeling in technique.helps_with.also:
                self._also_by_feeling[feeling].append(technique_id)
                self._fit[technique_id, feeling] = ALSO_FIT
        else:
            self._for_supporters.append(technique_id)
            for feeling in technique.helps_with.feelings:
                self._supporter_feelings[feeling].append(technique_id)
        for area in technique.areas:
            self._by_area[area].append(technique_id)
        for tag in technique.tags:
            self._by_tag[tag].append(technique_id)
        self._areas[technique_id] = _area_bits(technique.areas)
        self._minutes[technique_id] = technique.duration_minutes
        for story_id in technique.modeled_in:
            self._stories_for[technique_id].append(story_id)

    def add_story(self, story: Story) -> None:
        story_id = story.id
        self.replaced = self.replaced or story_id in self.stories
        self.stories.add(story)
        for theme in story.themes:
            self._by_theme[theme].append(story_id)
        if story.content_warnings:
            self._story_warnings[story_id] = frozenset(story.content_warnings)
        for technique_id in story.techniques:
            self._stories_for[technique_id].append(story_id)


_AREA_BIT = {area: 1 << n for n, area in enumerate(Area)}


def _area_bits(areas: Iterable[Area]) -> int:
    bits = 0
    for area in areas:
        bits |= _AREA_BIT[area]
    return bits


def why_this_one(catalog: Catalog, technique: Technique, feelings: Sequence[str] = ()) -> str:
    """One line on why this technique, e.g. "Why this one: for a racing mind, 5 minutes."

    It says what the technique is best for (`best_for`, else its main feelings) and how
    long it takes; when it is not mainly for any feeling the member named, the line says
    it helps with that one too, so the member knows it is not the closest fit.
    """
    minutes = technique.duration_minutes
    length = f"{minutes} minute{'' if minutes == 1 else 's'}"
    labels = [
        catalog.feelings[f].label.lower()
        for f in technique.helps_with.main
        if f in catalog.feelings
    ]
    best_for = technique.best_for or f"feeling {_either(labels)}"
    line = f"Why this one: for {best_for}, {length}."
    named = [f for f in feelings if f in catalog.feelings]
    if named and not set(named) & set(technique.helps_with.main):
        also = [catalog.feelings[f].label.lower() for f in named if f in technique.helps_with.also]
        if also:
            line += f" It helps when you feel {_either(also)} too."
    return line


def _either(words: Sequence[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} or {words[-1]}"


class Catalog:
    """All content of one load. Immutable: build a new one to change anything."""

    def __init__(
        self,
        *,
        techniques: Iterable[Technique],
        stories: Iterable[Story],
        prompts: Iterable[Prompt],
        regions: Iterable[ResourceRegion],
        vocabulary: Vocabulary,
        crisis: CrisisSet,
        revision: str | None = None,
        english: frozenset[str] | None = None,
    ) -> None:
        items = LibraryItems()
        # The last of several items with one id counts, as in a dict.
        for technique in {t.id: t for t in techniques}.values():
            items.add_technique(technique)
        for story in {s.id: s for s in stories}.values():
            items.add_story(story)
        self._setup(items, prompts, regions, vocabulary, crisis, revision, english)

    @classmethod
    def from_items(
        cls,
        items: LibraryItems,
        *,
        prompts: Iterable[Prompt],
        regions: Iterable[ResourceRegion],
        vocabulary: Vocabulary,
        crisis: CrisisSet,
        revision: str | None = None,
        english: frozenset[str] | None = None,
    ) -> Catalog:
        """A catalog of techniques and stories already stored (see `LibraryItems`), whose
        ids must all differ. `english`: the English words near the feelings' names
        (`feeling_reader.english_near`), so that typos in them are read; None reads none."""
        if items.replaced:
            raise ValueError("a technique or story id was added twice")
        catalog = cls.__new__(cls)
        catalog._setup(items, prompts, regions, vocabulary, crisis, revision, english)
        return catalog

    def _setup(
        self,
        items: LibraryItems,
        prompts: Iterable[Prompt],
        regions: Iterable[ResourceRegion],
        vocabulary: Vocabulary,
        crisis: CrisisSet,
        revision: str | None,
        english: frozenset[str] | None = None,
    ) -> None:
        items.techniques.seal()
        items.stories.seal()
        self.techniques: Mapping[str, Technique] = items.techniques
        self.stories: Mapping[str, Story] = items.stories
        self.prompts: Mapping[str, Prompt] = MappingProxyType({p.id: p for p in prompts})
        self.regions: Mapping[str, ResourceRegion] = MappingProxyType(
            {r.region: r for r in regions}
        )
        self.vocabulary = vocabulary
        self.crisis = crisis
        self.revision = revision
        self.feelings: Mapping[str, Feeling] = MappingProxyType(
            {f.id: f for f in vocabulary.feelings}
        )
        self.themes: Mapping[str, Theme] = MappingProxyType({t.id: t for t in vocabulary.themes})

        # The search index first: building it is the biggest passing use of memory in a
        # load, better before the copies below than on top of them.
        self.technique_index = SearchIndex(
            (technique_id, title, (technique_id.replace("-", " "),))
            for technique_id, title in zip(self.techniques, items._titles, strict=True)
        )
        prompts_by_kind: dict[PromptKind, list[str]] = defaultdict(list)
        for prompt in self.prompts.values():
            prompts_by_kind[prompt.kind].append(prompt.id)
        locale_regions: dict[str, str] = {}
        for region in self.regions.values():
            for locale in region.locales:
                locale_regions[locale] = region.region

        self._by_feeling = {k: tuple(v) for k, v in items._by_feeling.items()}
        self._also_by_feeling = {k: tuple(v) for k, v in items._also_by_feeling.items()}
        self._for_supporters = tuple(items._for_supporters)
        # A technique that specialists offer first for a feeling (`first` in the vocabulary)
        # and that is mainly for it fits it as well as one written first of all for it: the
        # finer order of `main` does not overrule their first choices ("move it out" for
        # anger, though its `main` names restless first).
        firsts = {(f.id, t) for f in vocabulary.feelings for t in f.first}
        self._fit = {
            key: MAIN_FIT if key[::-1] in firsts and how >= MAIN_FLOOR else how
            for key, how in items._fit.items()
        }
        self._supporter_feelings = {k: tuple(v) for k, v in items._supporter_feelings.items()}
        self._by_area = {k: tuple(v) for k, v in items._by_area.items()}
        self._by_tag = {k: tuple(v) for k, v in items._by_tag.items()}
        self._areas = items._areas
        self._minutes = items._minutes
        # Where each technique stands in a feeling's `first` (specialists' first choices).
        self._first_choice: dict[tuple[str, str], int] = {
            (feeling.id, technique_id): position
            for feeling in vocabulary.feelings
            for position, technique_id in enumerate(feeling.first)
        }
        self._by_theme = {k: tuple(v) for k, v in items._by_theme.items()}
        self._story_warnings = items._story_warnings
        self._stories_for = {k: tuple(sorted(set(v))) for k, v in items._stories_for.items()}
        self._prompts_by_kind = {k: tuple(sorted(v)) for k, v in prompts_by_kind.items()}
        self._locale_regions = locale_regions
        self._feeling_words = {
            fold(w): f.id for f in vocabulary.feelings for w in (f.id, f.label, *f.words)
        }

        # Every way of naming a feeling, as words read the way crisis detection reads
        # them, so "I'm" and "im", "ANXIOUS!!" and "anxious" are the same to both.
        self._feeling_reader = FeelingReader(vocabulary.feelings, crisis.normalise, english)

        self.feeling_index = SearchIndex((f.id, f"{f.label}", f.words) for f in vocabulary.feelings)
        self.theme_index = SearchIndex(
            (t.id, t.label, (t.id,)) for t in vocabulary.themes if t.id in self._by_theme
        )
        self.region_index = SearchIndex(
            (r.region, f"{r.name} ({r.region})", (r.region,)) for r in self.regions.values()
        )

    # -- lookups ------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        return {
            "techniques": len(self.techniques),
            "stories": len(self.stories),
            "prompts": len(self.prompts),
            "regions": len(self.regions),
            "feelings": len(self.feelings),
        }

    def techniques_for_feeling(self, feeling: str) -> tuple[str, ...]:
        """Ids of the techniques for members that are mainly for this feeling."""
        return self._by_feeling.get(feeling, ())

    def techniques_also_for(self, feeling: str) -> tuple[str, ...]:
        """Ids of the techniques for members that help with this feeling too."""
        return self._also_by_feeling.get(feeling, ())

    def techniques_for_supporters(self) -> tuple[str, ...]:
        """Ids of the techniques written for someone supporting another person."""
        return self._for_supporters

    def areas_of(self, technique_id: str) -> tuple[Area, ...]:
        """A technique's areas, from the index (the technique is not built)."""
        bits = self._areas.get(technique_id, 0)
        return tuple(area for area, bit in _AREA_BIT.items() if bits & bit)

    def stories_with_theme(self, theme: str) -> tuple[str, ...]:
        return self._by_theme.get(theme, ())

    def stories_for_technique(self, technique_id: str) -> tuple[str, ...]:
        return self._stories_for.get(technique_id, ())

    def prompts_of_kind(self, kind: PromptKind) -> tuple[str, ...]:
        return self._prompts_by_kind.get(kind, ())

    def region_for(
        self,
        *,
        asked: str | None = None,
        server: str | None = None,
        locale: str | None = None,
        host_default: str = INTERNATIONAL,
    ) -> ResourceRegion:
        """The support lines a member sees, in the order `crisis_region` gives."""
        code = crisis_region(
            asked=asked,
            server=server,
            locale=locale,
            host_default=host_default,
            known=self.regions,
            locale_regions=self._locale_regions,
        )
        if code in self.regions:
            return self.regions[code]
        return next(iter(self.regions.values()))

    def match_feeling(self, text: str) -> str | None:
        """A feeling id for what a member typed: an id, a label, an everyday word, or the
        start (four letters or more) of exactly one of those.

        No fuzzy guessing: "hopeless" must not become "hopeful". What does not match is
        answered with the closest feelings to choose from instead.
        """
        folded = fold(text).strip()
        if folded in self._feeling_words:
            return self._feeling_words[folded]
        if len(folded) >= 4:
            found = {fid for word, fid in self._feeling_words.items() if word.startswith(folded)}
            if len(found) == 1:
                return found.pop()
        return None

    def read_feelings(self, text: str, limit: int = MAX_FEELINGS) -> tuple[str, ...]:
        """The feelings named in a phrase or short sentence, in the order written.

        "really anxious", "I'm feeling down", "stressed out" and "scared and alone" are
        read word by word, normalised as crisis detection normalises them, taking the
        longest name of a feeling at each place ("want to use" before "use"), inflections
        and fillers allowed; a feeling just after a negation is left out: "not anxious,
        just tired" is tired (`bot.domain.feeling_reader`). A single word also matches as
        `match_feeling` does, by the start of a name.
        """
        whole = self.match_feeling(text)
        if whole is not None:
            return (whole,)
        return self._feeling_reader.read(text, limit)

    def read_cues(self, text: str, feelings: Collection[str]) -> tuple[str, ...]:
        """The techniques the member's words point at for the feelings read from them (the
        vocabulary's `cues`): "spiralling with what ifs" points at worry time."""
        return self._feeling_reader.cues(text, feelings)

    def closest_feelings(self, text: str, limit: int = 3) -> list[Feeling]:
        """What /cope offers when it could not read a feeling: those the words lean to
        (`FeelingReader.leanings`), then those whose names look like the text, then the
        rest in vocabulary order."""
        feelings: list[Feeling] = []
        for feeling_id in self._feeling_reader.leanings(text):
            if len(feelings) < limit:
                feelings.append(self.feelings[feeling_id])
        for hit in self.feeling_index.search(text, limit=limit):
            if len(feelings) < limit and self.feelings[hit.key] not in feelings:
                feelings.append(self.feelings[hit.key])
        if len(feelings) < limit:
            for feeling in self.vocabulary.feelings:
                if feeling not in feelings and self._by_feeling.get(feeling.id):
                    feelings.append(feeling)
                if len(feelings) >= limit:
                    break
        return feelings

    # -- recommendations ----------------------------------------------------------------

    def recommend(
        self,
        feelings: Sequence[str],
        area: Area | None = None,
        exclude: Iterable[str] = (),
        rng: random.Random | None = None,
        audience: Audience = Audience.SELF,
    ) -> RankedItems[Technique]:
        """Techniques for these feelings, best first; ties shuffled with `rng`.

        Each is built only when it is reached: a caller that needs only the order should
        use `recommend_ids`, which does the same ranking.
        """
        ids = self.recommend_ids(feelings, area, exclude, rng, audience)
        return RankedItems(self.techniques, ids)

    def recommend_ids(
        self,
        feelings: Sequence[str],
        area: Area | None = None,
        exclude: Iterable[str] = (),
        rng: random.Random | None = None,
        audience: Audience = Audience.SELF,
        prior: Mapping[str, Fraction] | None = None,
        cues: Collection[str] = (),
    ) -> list[str]:
        """Ids of the techniques that fit, best first: by fit, then area, then variety.

        Fit: a technique mainly for a named feeling counts `MAIN_FIT` when that is its
        first main feeling, a step less for each later one, and `ALSO_FIT` when it only
        also helps; summed over the feelings. First come the techniques mainly for the
        most of the named feelings (so every technique mainly for what the member feels
        comes before one that only also helps); among those, one in the asked-for area;
        then the best fit (one written first of all for the feeling before one for which
        it is a second thought). Variety: within that, recently shown
        ids (`exclude`) last; then what the server's members found helpful (`prior`, from
        published votes, `bot.domain.votes`: a technique without one scores one half);
        then one mainly for the feeling told first (feelings come in the order written,
        and the first is most often what the member most needs help with: "guilty and
        scared my family will find out" is helped first with the guilt); then one the
        member's words point at (`cues`, from `read_cues`: "spiralling with what ifs"
        points at worry time); then the feeling's first choices (`first` in the
        vocabulary: what peer specialists offer first for it, in their order); then,
        among techniques mainly for a named feeling, the quicker one first (what a member
        can do in the moment: two minutes of cold water before a half-hour plan); ties
        shuffled with `rng`, so the many that only also help still come round.

        Cards for supporters are offered only with `audience=SUPPORTER`, and then only
        they are. With no feeling, every technique for that audience (in the area, when
        one is asked for) fits equally.
        """
        excluded = set(exclude)
        pointed = set(cues)
        fit: dict[str, int] = {}
        mains: Counter[str] = Counter()  # how many named feelings each is mainly for
        told: dict[str, int] = {}  # the first named feeling each is mainly for, by place
        if audience is Audience.SUPPORTER:
            for technique_id in self._for_supporters:
                fit[technique_id] = 0
            for feeling in feelings:
                for technique_id in self._supporter_feelings.get(feeling, ()):
                    fit[technique_id] += MAIN_FIT
        else:
            how_well = self._fit
            for place, feeling in enumerate(feelings):
                for technique_id in chain(
                    self._by_feeling.get(feeling, ()), self._also_by_feeling.get(feeling, ())
                ):
                    how = how_well[technique_id, feeling]
                    fit[technique_id] = fit.get(technique_id, 0) + how
                    mains[technique_id] += how >= MAIN_FLOOR
                    if how >= MAIN_FLOOR:
                        told.setdefault(technique_id, place)
            if not fit:
                supporters = set(self._for_supporters)
                pool = self._by_area.get(area, ()) if area is not None else self._areas
                fit = {t: 0 for t in pool if t not in supporters}
        bit = _AREA_BIT[area] if area is not None else 0
        ids = list(fit)
        (rng or random.Random(0)).shuffle(ids)
        areas = self._areas
        # How many named feelings it is mainly for, then the area, then how well.
        scores = prior or {}
        minutes = self._minutes
        first = self._first_choice
        unlisted = len(self._minutes)
        choice = {
            i: min((first.get((f, i), unlisted) for f in feelings), default=unlisted) for i in ids
        }
        ids.sort(
            key=lambda i: (
                -mains[i],
                not areas[i] & bit,
                -fit[i],
                i in excluded,
                -scores.get(i, _NO_VOTES),
                told.get(i, unlisted),
                i not in pointed,
                choice[i],
                minutes[i] if fit[i] >= MAIN_FLOOR else 0,
            )
        )
        return ids

    def techniques_tagged(self, tag: str) -> tuple[str, ...]:
        """Ids of the techniques with this tag, in library order."""
        return self._by_tag.get(tag, ())

    def pick_story(
        self,
        theme: str | None = None,
        skip: Iterable[ContentWarning] = (),
        exclude: Iterable[str] = (),
        rng: random.Random | None = None,
    ) -> Story | None:
        avoid = set(skip)
        pool = self._by_theme.get(theme, ()) if theme else tuple(self.stories)
        warnings = self._story_warnings
        allowed = [s for s in pool if not avoid.intersection(warnings.get(s, ()))]
        if not allowed:
            return None
        excluded = set(exclude)
        fresh = [s for s in allowed if s not in excluded] or allowed
        return self.stories[(rng or random.Random(0)).choice(sorted(fresh))]
