"""The print SCU: image preparation, film pagination and the DIMSE conversation with a print SCP."""
