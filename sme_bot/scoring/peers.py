"""How similar businesses did: shares of a group at each level and one business's place among
them, from counts read elsewhere. Pure: the counting (and who counts) is the storage's."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sme_bot.questionnaire import Text


@dataclass(frozen=True)
class Peers:
    """Businesses of one group (same sector and size band), each once, by their latest result."""

    groups: tuple[Text, ...]  # the group's names: its sector, its size band
    total: int
    shares: tuple[tuple[int, int, float], ...]  # (level, businesses, percent of the group), every level
    level: int  # the owner's
    below: float  # percent of the group at a lower level than the owner
    same: float
    above: float


def compare(counts: Mapping[int, int], levels: Sequence[int], level: int, *, groups: tuple[Text, ...],
            min_group: int) -> Peers | None:
    """The group's shares at each of `levels` and the owner's place; None when the group has fewer
    than `min_group` businesses, so no one in it can be singled out."""
    total = sum(counts.values())
    if total < max(min_group, 1):
        return None

    def share(count: int) -> float:
        return round(100 * count / total, 1)

    return Peers(groups=groups, total=total,
                 shares=tuple((lv, counts.get(lv, 0), share(counts.get(lv, 0))) for lv in levels),
                 level=level,
                 below=share(sum(n for lv, n in counts.items() if lv < level)),
                 same=share(counts.get(level, 0)),
                 above=share(sum(n for lv, n in counts.items() if lv > level)))
