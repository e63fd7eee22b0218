"""Agencies and the e-services they run: the catalogue everything else points at."""
