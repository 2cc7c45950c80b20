"""A small DSL for scenario files, and the loader.

A scenario module in :mod:`socap.simulator.scenarios` defines ``NAME``, ``DESCRIPTION`` (and optionally
``SEED``) and ``build(b: ScenarioBuilder) -> None``. Times are written relative to the campaign start::

    at("D1 H0")                  # the start; "D2 H12" is 36 hours later, "D3 H24" the end of day 3
    at("D1 H1") + minutes(20)
    -hours(2)                    # two hours before the start

The builder (:class:`socap.simulator.builder.ScenarioBuilder`) turns those declarations into a
:class:`~socap.simulator.world.World`, deterministically from ``random.Random`` seeded with (scenario, seed).
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from socap.simulator.builder import ScenarioBuilder
    from socap.simulator.world import World

_SPEC_PART = re.compile(r"^([DHMS])(\d+(?:\.\d+)?)$", re.IGNORECASE)


def days(n: float) -> timedelta:
    return timedelta(days=n)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def seconds(n: float) -> timedelta:
    return timedelta(seconds=n)


def at(spec: str) -> timedelta:
    """``"D1 H2"`` → 2 hours after the start; days count from 1, hours/minutes/seconds from 0."""
    total = timedelta(0)
    parts = spec.replace(",", " ").split()
    if not parts:
        raise ValueError(f"empty time spec {spec!r}")
    for part in parts:
        match = _SPEC_PART.match(part)
        if not match:
            raise ValueError(f"bad time spec part {part!r} in {spec!r}: use D<day> H<hour> M<min> S<sec>")
        unit, value = match.group(1).upper(), float(match.group(2))
        if unit == "D":
            if value < 1:
                raise ValueError(f"days count from 1 in {spec!r}")
            total += timedelta(days=value - 1)
        elif unit == "H":
            total += timedelta(hours=value)
        elif unit == "M":
            total += timedelta(minutes=value)
        else:
            total += timedelta(seconds=value)
    return total


@dataclass
class Scenario:
    """A named world recipe. ``build_world(seed)`` is pure; worlds are cached per seed."""

    key: str
    name: str
    description: str
    build: Callable[[ScenarioBuilder], None]
    default_seed: int = 0
    number: int | None = None
    _worlds: dict[int, World] = field(default_factory=dict, repr=False, compare=False)

    def build_world(self, seed: int | None = None) -> World:
        from socap.simulator.builder import ScenarioBuilder

        seed = self.default_seed if seed is None else seed
        if seed not in self._worlds:
            builder = ScenarioBuilder(key=self.key, title=self.name, description=self.description, seed=seed)
            self.build(builder)
            self._worlds[seed] = builder.finish()
        return self._worlds[seed]

    @property
    def start(self) -> datetime:
        """The campaign's virtual start instant (D1 H0)."""
        return self.build_world().start

    def campaign_spec(self, seed: int | None = None) -> dict:
        """What a user types into SOCAP to monitor this scenario's campaign."""
        return campaign_spec(self.build_world(seed))

    def seeds_csv(self, seed: int | None = None) -> str:
        return seeds_csv(self.build_world(seed))

    @classmethod
    def from_function(
        cls,
        key: str,
        build: Callable[[ScenarioBuilder], None],
        *,
        name: str = "",
        description: str = "",
        seed: int = 0,
    ) -> Scenario:
        """An ad-hoc scenario (tests build small worlds this way)."""
        return cls(key=key, name=name or key, description=description, build=build, default_seed=seed)


def campaign_spec(world: World) -> dict:
    """Name, post URLs by category, window, threshold and spacing: enough to create the campaign."""
    spec: dict = {"name": world.campaign_name, "main": [], "influencer": [], "investor": []}
    for post in world.campaign_posts():
        spec.setdefault(post.category or "main", []).append(world.url(post))
    spec.update(
        days=world.days,
        threshold=world.threshold,
        spacing_minutes=world.spacing_minutes,
        starts_at=world.start.isoformat().replace("+00:00", "Z"),
    )
    return spec


def seeds_csv(world: World) -> str:
    """The curated important accounts as SOCAP's seed CSV (``username,category,weight``)."""
    lines = ["username,category,weight"]
    lines += [f"{a.username},{a.seed_category},{a.seed_weight}" for a in world.seeds()]
    return "\n".join(lines) + "\n"


_PACKAGE = "socap.simulator.scenarios"


def _module_keys() -> list[str]:
    package = importlib.import_module(_PACKAGE)
    return sorted(m.name for m in pkgutil.iter_modules(package.__path__) if re.match(r"^s\d+_", m.name))


def _from_module(key: str) -> Scenario:
    module = importlib.import_module(f"{_PACKAGE}.{key}")
    number = int(re.match(r"^s(\d+)_", key).group(1))  # type: ignore[union-attr]
    return Scenario(
        key=key,
        name=module.NAME,
        description=module.DESCRIPTION.strip(),
        build=module.build,
        default_seed=getattr(module, "SEED", 0),
        number=number,
    )


_CACHE: dict[str, Scenario] = {}


def list_scenarios() -> list[Scenario]:
    return [load_scenario(key) for key in _module_keys()]


def load_scenario(name: str | int) -> Scenario:
    """Accepts ``1``, ``"1"``, ``"s01"``, ``"s01_small_launch"`` or ``"small_launch"``."""
    text = str(name).strip().lower().replace("-", "_")
    keys = _module_keys()
    match = None
    if text.isdigit():
        match = next((k for k in keys if int(k[1:].split("_", 1)[0]) == int(text)), None)
    elif re.fullmatch(r"s\d+", text):
        match = next((k for k in keys if int(k[1:].split("_", 1)[0]) == int(text[1:])), None)
    else:
        match = next((k for k in keys if k == text or k.split("_", 1)[1] == text), None)
    if match is None:
        known = ", ".join(keys) or "none"
        raise KeyError(f"unknown scenario {name!r}; known scenarios: {known}")
    if match not in _CACHE:
        _CACHE[match] = _from_module(match)
    return _CACHE[match]
