"""How feedback comes in: a submission is checked (submission), stored with its history, due date and
theme queueing by one statement (statement), batched per web process (queue), by the service that
the form, the JSON API, Open311, the CLI and the demo data call (service)."""
