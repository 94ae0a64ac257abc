"""The catalog: a validated content library, built once per load and never changed.

Lookups by id, feeling, area, theme and region; search for autocomplete; and
`recommend`, which orders techniques for a member's feelings. A reload builds a new
Catalog and swaps the reference, so a command never sees half of two libraries.
"""

from __future__ import annotations

import bisect
import heapq
import random
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from types import MappingProxyType

from bot.domain.content import (
    Area,
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
from bot.domain.crisis import CrisisDetector

AUTOCOMPLETE_LIMIT = 25
CHOICE_NAME_LIMIT = 100


def fold(text: str) -> str:
    """Case- and accent-insensitive form used for matching."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _trigrams(text: str) -> set[str]:
    padded = f"  {text} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def cut(text: str, limit: int = CHOICE_NAME_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


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
    """

    def __init__(self, entries: Iterable[tuple[str, str, Sequence[str]]]) -> None:
        # entries: (key, label, extra names such as the id or synonyms)
        self._keys: list[str] = []
        self._labels: list[str] = []
        self._folded: list[str] = []
        names: list[tuple[str, int]] = []
        words: list[tuple[str, int]] = []
        grams: dict[str, list[int]] = defaultdict(list)
        pairs: dict[str, set[int]] = defaultdict(set)
        for index, (key, label, extra) in enumerate(entries):
            self._keys.append(key)
            self._labels.append(cut(label))
            all_names = [fold(label), *(fold(e) for e in extra)]
            self._folded.append(" | ".join(all_names))
            seen_grams: set[str] = set()
            for name in all_names:
                names.append((name, index))
                for word in name.replace("-", " ").split():
                    words.append((word, index))
                seen_grams |= _trigrams(name)
                for i in range(len(name) - 1):
                    pairs[name[i : i + 2]].add(index)
            for gram in seen_grams:
                grams[gram].append(index)
        names.sort()
        words.sort()
        self._names = names
        self._name_keys = [n for n, _ in names]
        self._words = words
        self._word_keys = [w for w, _ in words]
        self._grams = {gram: frozenset(found) for gram, found in grams.items()}
        self._pairs = {pair: frozenset(found) for pair, found in pairs.items()}
        self._alphabetical = sorted(range(len(self._keys)), key=self._labels.__getitem__)
        # A trigram found in more than this many names says little about a typo.
        self._common = max(50, len(self._keys) // 20)

    def __len__(self) -> int:
        return len(self._keys)

    @staticmethod
    def _range(
        keys: list[str], pairs: list[tuple[str, int]], query: str, *, exact: bool
    ) -> Iterator[int]:
        for i in range(bisect.bisect_left(keys, query), len(keys)):
            key = keys[i]
            if key != query if exact else not key.startswith(query):
                return
            yield pairs[i][1]

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

        if take(self._range(self._name_keys, self._names, q, exact=True)):
            return self._hits(ranked)
        if take(self._range(self._name_keys, self._names, q, exact=False)):
            return self._hits(ranked)
        # Several words: look up the longest (fewest names start a word with it), and keep
        # names that also contain the others.
        words = q.split()
        longest = max(words, key=len)
        others = [w for w in words if w is not longest]
        word_hits: Iterable[int] = self._range(self._word_keys, self._words, longest, exact=False)
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

    def _may_contain(self, text: str) -> bool:
        """False when some name would have to hold a trigram that no name holds."""
        return all(text[i : i + 3] in self._grams for i in range(len(text) - 2))

    def _containing(self, q: str) -> Iterator[int]:
        """Names containing the query anywhere, in alphabetical order."""
        if len(q) < 2:
            return
        if len(q) < 3:
            yield from sorted(self._pairs.get(q, ()), key=self._labels.__getitem__)
            return
        postings: list[frozenset[int]] = []
        for gram in _trigrams(q):
            if gram.startswith(" "):
                continue
            posting = self._grams.get(gram)
            if posting is None:
                return
            postings.append(posting)
        if not postings:
            return
        postings.sort(key=len)
        # The three rarest trigrams narrow the candidates enough; the `in` test is exact.
        candidates = postings[0].intersection(*postings[1:3])
        found = [i for i in candidates if q in self._folded[i]]
        found.sort(key=self._labels.__getitem__)
        yield from found

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
        best: list[int] = []
        start = 0
        while start < len(ranked) and len(best) < limit and ranked[start][1] >= floor:
            score = ranked[start][1]
            end = start
            while end < len(ranked) and ranked[end][1] == score:
                end += 1
            tied = [i for i, _ in ranked[start:end]]
            best.extend(heapq.nsmallest(limit - len(best), tied, key=self._labels.__getitem__))
            start = end
        return best

    def _hits(self, indexes: Sequence[int]) -> list[SearchHit]:
        return [SearchHit(self._keys[i], self._labels[i]) for i in indexes]


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
        crisis: CrisisDetector,
        revision: str | None = None,
    ) -> None:
        self.techniques: Mapping[str, Technique] = MappingProxyType({t.id: t for t in techniques})
        self.stories: Mapping[str, Story] = MappingProxyType({s.id: s for s in stories})
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

        by_feeling: dict[str, list[str]] = defaultdict(list)
        by_area: dict[Area, list[str]] = defaultdict(list)
        stories_for: dict[str, set[str]] = defaultdict(set)
        for technique in self.techniques.values():
            for feeling in technique.helps_with:
                by_feeling[feeling].append(technique.id)
            for area in technique.areas:
                by_area[area].append(technique.id)
            for story_id in technique.modeled_in:
                stories_for[technique.id].add(story_id)
        by_theme: dict[str, list[str]] = defaultdict(list)
        for story in self.stories.values():
            for theme in story.themes:
                by_theme[theme].append(story.id)
            for technique_id in story.techniques:
                stories_for[technique_id].add(story.id)
        prompts_by_kind: dict[PromptKind, list[str]] = defaultdict(list)
        for prompt in self.prompts.values():
            prompts_by_kind[prompt.kind].append(prompt.id)
        locale_regions: dict[str, str] = {}
        for region in self.regions.values():
            for locale in region.locales:
                locale_regions[locale] = region.region

        self._by_feeling = {k: tuple(v) for k, v in by_feeling.items()}
        self._by_area = {k: tuple(v) for k, v in by_area.items()}
        self._by_theme = {k: tuple(v) for k, v in by_theme.items()}
        self._stories_for = {k: tuple(sorted(v)) for k, v in stories_for.items()}
        self._prompts_by_kind = {k: tuple(sorted(v)) for k, v in prompts_by_kind.items()}
        self._locale_regions = locale_regions
        self._feeling_words = {
            fold(w): f.id for f in vocabulary.feelings for w in (f.id, f.label, *f.words)
        }

        self.technique_index = SearchIndex(
            (t.id, t.title, (t.id.replace("-", " "),)) for t in self.techniques.values()
        )
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
        return self._by_feeling.get(feeling, ())

    def techniques_in_area(self, area: Area) -> tuple[str, ...]:
        return self._by_area.get(area, ())

    def stories_with_theme(self, theme: str) -> tuple[str, ...]:
        return self._by_theme.get(theme, ())

    def stories_for_technique(self, technique_id: str) -> tuple[str, ...]:
        return self._stories_for.get(technique_id, ())

    def prompts_of_kind(self, kind: PromptKind) -> tuple[str, ...]:
        return self._prompts_by_kind.get(kind, ())

    def region_for_locale(self, locale: str | None, default: str) -> ResourceRegion:
        """The member's region from their Discord locale, else the server default, else INTL."""
        code = self._locale_regions.get(locale or "")
        for candidate in (code, default, "INTL"):
            if candidate and candidate in self.regions:
                return self.regions[candidate]
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

    def closest_feelings(self, text: str, limit: int = 3) -> list[Feeling]:
        hits = self.feeling_index.search(text, limit=limit)
        feelings = [self.feelings[h.key] for h in hits]
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
    ) -> list[Technique]:
        """Techniques for these feelings, best first; ties shuffled with `rng`.

        A technique helping with more of the named feelings ranks higher; within that, one
        in the asked-for area. Excluded ids (recently shown) go to the end, not away, so a
        member with one matching technique still gets it.
        """
        excluded = set(exclude)
        candidates: dict[str, int] = defaultdict(int)
        for feeling in feelings:
            for technique_id in self._by_feeling.get(feeling, ()):
                candidates[technique_id] += 2
        if area is not None:
            if candidates:
                for technique_id in list(candidates):
                    if area in self.techniques[technique_id].areas:
                        candidates[technique_id] += 1
            else:
                for technique_id in self._by_area.get(area, ()):
                    candidates[technique_id] += 1
        ids = list(candidates)
        (rng or random.Random(0)).shuffle(ids)
        ids.sort(key=lambda i: (i in excluded, -candidates[i]))
        return [self.techniques[i] for i in ids]

    def pick_story(
        self,
        theme: str | None = None,
        skip: Iterable[ContentWarning] = (),
        exclude: Iterable[str] = (),
        rng: random.Random | None = None,
    ) -> Story | None:
        avoid = set(skip)
        pool = self._by_theme.get(theme, ()) if theme else tuple(self.stories)
        allowed = [s for s in pool if not avoid.intersection(self.stories[s].content_warnings)]
        if not allowed:
            return None
        excluded = set(exclude)
        fresh = [s for s in allowed if s not in excluded] or allowed
        return self.stories[(rng or random.Random(0)).choice(sorted(fresh))]
