"""printserver: a DICOM Print Management SCP (a virtual film printer) and print SCU."""

__version__ = "0.1.0"
