"""Routers, one per console feature."""
