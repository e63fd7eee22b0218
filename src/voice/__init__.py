"""Voice (صوت): beneficiary feedback, e-contribution and award evidence for government e-services."""

__version__ = "0.1.0"
