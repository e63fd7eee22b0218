"""Themes: what the NLP finds in what people say, kept stable across runs and editable by staff."""
