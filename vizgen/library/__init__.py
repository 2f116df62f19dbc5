"""The students' course library."""
