"""The agency workspace: themes dashboard, inbox triage, bulk answers, transfers, improvements, exports."""
