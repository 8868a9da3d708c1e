"""The rasa-sdk action server: one module per topic, thin over the CRM queries.

Run it with `python -m rasa_sdk --actions actions`. Importing the package imports
every module, so the registries of request handlers and confirmations are complete.
"""

from actions import (  # noqa: F401
    account,
    billing,
    common,
    confirm,
    fallback,
    feedback,
    handoff,
    orders,
    subscription,
    verification,
)
