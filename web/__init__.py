"""The staff review console and the customer chat widget page (FastAPI)."""
