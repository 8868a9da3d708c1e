"""The Rasa side of kefu: domain, dialogue data and our own NLU components."""
