"""Everything that knows databases, files, keys and clocks."""
