"""Segmentation, churn and lifetime value on conversation-enriched CRM data."""

from __future__ import annotations


class AnalyticsError(RuntimeError):
    """A problem with the input explained in one line that says what to do."""
