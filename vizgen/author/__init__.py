"""The check authors' API."""
