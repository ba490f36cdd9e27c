"""Sentiment analysis of IMDB movie reviews with recurrent neural networks."""

__version__ = "0.1.0"
