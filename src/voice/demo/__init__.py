"""Demonstration data written for this project (see data/)."""
