"""Sentiment analysis of IMDB movie reviews with recurrent neural networks."""

from sentiment.core import quiet_tensorflow

__version__ = "0.1.0"

# Before anything imports TensorFlow: every entry point (CLI, flows, served model, benchmarks) imports
# this package first.
quiet_tensorflow.quiet()
