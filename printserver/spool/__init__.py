"""The durable job spool and the workers that drain it."""
