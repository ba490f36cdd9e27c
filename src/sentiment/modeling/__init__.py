"""The models: layers and the one model builder, batching, training, inference, the count baseline,
gradient diagnostics and embedding probes. TensorFlow is imported only by the modules that need it."""
