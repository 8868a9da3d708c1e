"""Our Rasa NLU components (GraphComponents registered with the default recipe).

Reference them in config.yml by module path, e.g.
``name: bot.components.sentiment.SentimentClassifier``.
"""
