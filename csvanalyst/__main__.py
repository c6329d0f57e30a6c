"""`python -m csvanalyst` runs the same CLI as the console script (warm worker included)."""

from csvanalyst.daemon.client import main

if __name__ == "__main__":
    main()
