"""`python -m compliance`."""

from .cli import main

main()
