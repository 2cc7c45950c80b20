"""Imports every domain's tables so that Base.metadata is complete (Alembic and tests use it)."""

from socap.alerts.models import Alert, AlertDelivery
from socap.auth.models import ApiToken, User, Workspace
from socap.campaigns.models import Campaign, CampaignTweet
from socap.db import Base
from socap.importance.models import Account, AccountImportance, Follow, FollowStaging, ImportantAccount
from socap.monitoring.models import AppState, Engagement, MetricSnapshot, PollJob, Run
from socap.reports.models import CampaignAccount, CampaignReport, PostTally, RunTally
from socap.x.models import BilledItem, RateBudget

__all__ = [
    "Account", "AccountImportance", "Alert", "AlertDelivery", "ApiToken", "AppState", "Base", "BilledItem",
    "Campaign", "CampaignAccount", "CampaignReport", "CampaignTweet", "Engagement", "Follow", "FollowStaging",
    "ImportantAccount", "MetricSnapshot", "PollJob", "PostTally", "RateBudget", "Run", "RunTally", "User",
    "Workspace",
]
