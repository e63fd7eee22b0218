"""The HTTP layer's shared parts: sessions, authentication, language, templates and error pages."""
