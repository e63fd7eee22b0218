"""The feedback slice's pages: giving feedback, tracking it and the public board (public), and the
platform's moderation queue (moderation). The agency's pages are the workspace's."""
