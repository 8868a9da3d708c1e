"""The Rasa side of kefu: domain, dialogue data and our own NLU components."""

from bot import action_validation

action_validation.install()
