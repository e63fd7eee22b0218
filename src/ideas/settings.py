"""The ideas component's settings section: read once at start-up, kept in ``app.state.sections["ideas"]``."""

from __future__ import annotations

from dataclasses import dataclass

from voice.settings import env_flag

PREMODERATION_ENV = "VOICE_IDEAS_PREMODERATION"


@dataclass(frozen=True)
class IdeasSettings:
    # On: every new idea waits for a moderator before it is public. Off: only ideas the word filter
    # holds wait (documented in the README's configuration table).
    premoderation: bool = False

    @classmethod
    def from_env(cls) -> IdeasSettings:
        return cls(premoderation=env_flag(PREMODERATION_ENV, False))
