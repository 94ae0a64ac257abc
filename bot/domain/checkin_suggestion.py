"""Which technique a check-in suggests: for the feelings picked, else for the mood.

The mood's own feelings (`MOOD_FEELINGS`) stand in when a member picks none; techniques
for helping someone else are never the answer to how the member is doing.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from bot.domain.catalog import Catalog
from bot.domain.content import Technique

# With no feelings picked, the mood alone chooses what to suggest.
MOOD_FEELINGS: dict[int, tuple[str, ...]] = {
    1: ("low", "overwhelmed"),
    2: ("low", "overwhelmed"),
    3: ("stressed", "tired"),
    4: ("calm", "hopeful"),
    5: ("hopeful", "grateful"),
}
# Techniques for helping someone else are not an answer to how the member is doing.
NOT_FOR_CHECKINS = frozenset({"supporting-others"})


def technique_for_mood(
    catalog: Catalog, mood: int, feelings: Sequence[str], rng: random.Random
) -> Technique | None:
    """The best technique for the picked feelings, else for the mood, else any.

    The best helps with the most of the feelings wanted, as `Catalog.recommend` ranks
    them, and ties are drawn at random. Only the first place is wanted, so the others are
    not ranked, and only the techniques drawn are looked at.
    """
    for wanted in (feelings, MOOD_FEELINGS[mood]):
        matches: dict[str, int] = {}
        for feeling in wanted:
            for technique_id in catalog.techniques_for_feeling(feeling):
                matches[technique_id] = matches.get(technique_id, 0) + 1
        for most in sorted(set(matches.values()), reverse=True):
            tied = [technique_id for technique_id, count in matches.items() if count == most]
            while tied:
                technique = catalog.techniques[tied.pop(rng.randrange(len(tied)))]
                if not NOT_FOR_CHECKINS.intersection(technique.tags):
                    return technique
    not_for_checkins = {i for tag in NOT_FOR_CHECKINS for i in catalog.techniques_tagged(tag)}
    not_for_checkins.update(catalog.techniques_for_supporters())
    rest = sorted(set(catalog.techniques) - not_for_checkins)
    return catalog.techniques[rng.choice(rest)] if rest else None
