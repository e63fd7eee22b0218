"""Themes, as a component of the platform: discovery runs, the nightly refresh and assignment jobs.
Their pages belong to the slices whose texts they group (the agency workspace, ideas moderation)."""

from voice.component import Component
from voice.themes.alerts import emerging_digest
from voice.themes.assign import assign_new_texts
from voice.themes.services import refresh_all_themes, refresh_themes_job
from voice.themes.vectors import encode_missing

component = Component(name="themes", tasks=[refresh_themes_job, refresh_all_themes, assign_new_texts,
                                            encode_missing, emerging_digest])
