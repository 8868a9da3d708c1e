"""The CRM data layer: settings, engine and sessions, models, queries, demo data."""
