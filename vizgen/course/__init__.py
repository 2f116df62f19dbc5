"""The course: its layout, settings, notebooks and the contract they keep."""
