"""Raw reviews (download, archive reading, synthetic reviews) and text preparation: cleaning, tokens,
vocabulary, sequences. Pure modules: they take data and typed config; only `download` and `ingest`
touch files."""
