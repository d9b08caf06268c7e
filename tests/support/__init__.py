"""Shared test helpers: a live server (thread or subprocess), scripted worker clients and crowds of
them, requester REST calls, and reading a module's imports for the purity tests."""
