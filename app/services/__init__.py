"""Use cases, free of Flask request objects."""
