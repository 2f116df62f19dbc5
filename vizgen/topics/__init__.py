"""The topic modules."""
