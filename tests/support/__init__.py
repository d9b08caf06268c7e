"""Shared test helpers: a live server (thread or subprocess) and scripted worker clients."""
