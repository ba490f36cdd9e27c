

def test_sequences_without_the_split_method_cannot_be_validated(preprocessed_workspace: Workspace) -> None:
    path = preprocessed_workspace.sequences_file
    arrays = readers.read_sequences(preprocessed_workspace)
    del arrays["validation_split"]
    with path.open("wb") as handle:
        np.savez(handle, **arrays)  # type: ignore[arg-type]
    with pytest.raises(DataError, match="sequences lack the array 'validation_split'"):
        data_validation.validate_sequences(preprocessed_workspace)
