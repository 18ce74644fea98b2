"""`python -m wizard` runs the same command line as `shipyard`."""

from wizard.cli import main

if __name__ == "__main__":
    main()
