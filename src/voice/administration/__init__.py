"""Operating the platform without a developer: agencies and e-services, people and their invitations,
the account life-cycle mails (verification, password reset), and the audit view. One service behind the
pages, the admin API and the CLI; every change leaves an audit event."""
