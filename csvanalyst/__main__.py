"""`python -m csvanalyst` runs the same CLI as the console script."""

from csvanalyst.cli.app import main

if __name__ == "__main__":
    main()
