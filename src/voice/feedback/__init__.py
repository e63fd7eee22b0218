"""Voice of the beneficiary: feedback on e-services, its tracking, answers and public board."""
