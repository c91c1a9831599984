"""Applications: the only callers of save(); command methods return ids or small read models."""
