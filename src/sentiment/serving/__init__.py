"""The served model: raw-text inputs, the pyfunc, batch scoring."""
