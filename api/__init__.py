"""The interfaces: HTTP API (FastAPI) and the `xiaobao` command line."""
