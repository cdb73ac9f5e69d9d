"""Outputs: where finished films go (PDF files now; CUPS queues later)."""
