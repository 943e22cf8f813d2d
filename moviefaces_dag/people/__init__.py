"""People: who is who within a movie, and across the library."""
