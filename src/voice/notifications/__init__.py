"""Notifications: e-mails written with the change that causes them (an outbox) and sent by a job."""
