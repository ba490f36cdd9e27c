"""Raw reviews (download, archive and directory reading, synthetic reviews) and text preparation:
cleaning, tokens, vocabulary, sequences. Pure modules: they take data and typed config; only
`download` and the readers `ingest` calls (`tar_reader`, `directory_reader`) touch files."""
