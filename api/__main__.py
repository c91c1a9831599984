"""`python -m api` runs the `xiaobao` command line."""

from api.cli import main

main()
