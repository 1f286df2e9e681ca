"""The order of a collection's runs: rounds, each a seeded shuffle of the variants.

Each round runs every variant once, so drift of the machine hits every variant alike; the seed makes
the order reproducible. The timed runs (:mod:`perfkit.collect.measure`) and the traced pass
(:mod:`perfkit.collect.trace`) both take their order from here.
"""

from __future__ import annotations

import random
from collections.abc import Sequence


def schedule(names: Sequence[str], *, runs: int, warmup: int, seed: int) -> list[tuple[str, bool]]:
    """The execution order: ``warmup`` then ``runs`` rounds, each a seeded shuffle of ``names``.

    Returns (variant, is_warmup) pairs. The same seed gives the same order.
    """
    rng = random.Random(seed)
    out: list[tuple[str, bool]] = []
    for round_index in range(warmup + runs):
        names_round = list(names)
        rng.shuffle(names_round)
        out.extend((name, round_index < warmup) for name in names_round)
    return out
