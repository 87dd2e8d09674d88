"""`python -m chipline` runs the command line."""

from chipline.cli import main

if __name__ == "__main__":
    main()
