"""Duplicate candidate pairs, decisions and merges."""
