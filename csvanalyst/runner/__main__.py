"""`python -m csvanalyst.runner`, or `python -m runner` when this directory is copied alone as `runner/`."""

import sys

from .main import main

if __name__ == "__main__":
    sys.exit(main())
