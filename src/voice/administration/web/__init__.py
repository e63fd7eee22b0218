"""The administration slice over HTTP: pages for people, the admin API for integrators."""
