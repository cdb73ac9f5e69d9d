"""Composition: print jobs -> film rasters at the printer's resolution (numpy + Pillow)."""
