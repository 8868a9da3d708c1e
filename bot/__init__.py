"""The Rasa side of kefu: domain, dialogue data and our own NLU components."""

import warnings

from bot import action_validation, rule_matching

action_validation.install()
rule_matching.install()

# LinearIntentClassifier answers faq/* itself, so Rasa's check for a
# ResponseSelector in the pipeline warns about data that is in fact used.
warnings.filterwarnings(
    "ignore", message="You have defined training data with examples for training a re"
)
