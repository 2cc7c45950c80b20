"""Campaign input and output shapes (pydantic), shared by the CLI, the web form and the API."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class CampaignInput(BaseModel):
    """What a user asks for. Validation that needs several fields lives in the service, which reports
    every problem at once, keyed by field, so a form can show each next to its input."""

    model_config = ConfigDict(extra="forbid")

    name: str
    main: list[str] = Field(default_factory=list)
    influencer: list[str] = Field(default_factory=list)
    investor: list[str] = Field(default_factory=list)
    days: float | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    threshold: int = 10
    spacing_minutes: int = 20
    poll_interval_minutes: int = 30
    notify_urls: list[str] = Field(default_factory=list)
    allow_missing: bool = False

    @classmethod
    def from_spec(cls, spec: dict, **changes) -> CampaignInput:
        """From a campaign spec (the simulator's scenarios describe their campaign this way)."""
        fields = ("name", "main", "influencer", "investor", "days", "threshold", "spacing_minutes")
        return cls(**{**{k: spec[k] for k in fields if k in spec}, **changes})


class PostsInput(BaseModel):
    """Posts to add to an existing campaign (URLs or ids per category, as for a new campaign)."""

    model_config = ConfigDict(extra="forbid")

    main: list[str] = Field(default_factory=list)
    influencer: list[str] = Field(default_factory=list)
    investor: list[str] = Field(default_factory=list)
    allow_missing: bool = Field(default=False, description="add the posts X can find and skip the others")


class SettingsInput(BaseModel):
    """A change of a campaign's settings; fields left out (or null) stay as they are."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    threshold: int | None = Field(default=None, description="alert when importance ≥ this (new engagements only)")
    spacing_minutes: int | None = Field(default=None, description="minutes over which one run's alerts are spread")
    notify_urls: list[str] | None = Field(default=None, description="Apprise URLs; [] for none (console only)")


@dataclass(frozen=True)
class PostRef:
    """One post as the user gave it, after URL parsing."""

    tweet_id: str
    category: str
    url: str


@dataclass(frozen=True)
class MissingPost:
    tweet_id: str
    category: str
    url: str
    reason: str


@dataclass
class ResolvedPost:
    tweet_id: str
    category: str
    url: str
    author_id: str | None
    author_username: str | None
    text: str
    conversation_id: str | None
    created_at: datetime | None


@dataclass
class CampaignPlan:
    """A validated, resolved campaign ready to be written in one transaction."""

    input: CampaignInput
    starts_at: datetime
    ends_at: datetime
    posts: list[ResolvedPost]
    missing: list[MissingPost] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    lookup_calls: int = 0


@dataclass
class PostsAdded:
    """What adding posts did: the posts added, warnings (duplicates, skipped posts) and X lookups made."""

    added: list[ResolvedPost]
    warnings: list[str] = field(default_factory=list)
    lookup_calls: int = 0


class PostOut(BaseModel):
    id: int
    tweet_id: str
    category: str
    url: str
    author_username: str | None
    text: str
    unavailable_reason: str | None


class CampaignOut(BaseModel):
    id: int
    name: str
    status: str
    starts_at: datetime
    ends_at: datetime
    alert_threshold: int
    alert_spacing_minutes: int
    poll_interval_minutes: int
    notify_urls: list[str]
    posts: list[PostOut]
    job_count: int
    warnings: list[str] = Field(default_factory=list)
