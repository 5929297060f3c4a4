"""The cell language: parse, print, validate, hash and exchange cells. Pure data, no torch."""
