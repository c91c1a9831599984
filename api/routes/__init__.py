"""HTTP routes: thin — parse, call one application method, shape the response."""
