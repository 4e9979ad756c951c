"""Position sources: pure parse functions with thin fetch edges."""
