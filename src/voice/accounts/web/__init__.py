"""The accounts slice over HTTP: signing in (password, second factor, single sign-on) and the account pages."""
