"""The attachments slice's HTTP side: downloads with rights checked, and moderators' publish/remove."""
