"""Films as DICOM objects for an archive: identity, Secondary Capture / Encapsulated PDF, C-STORE."""
