"""The Print Management model: pure state and validation, no network, files or rendering."""
