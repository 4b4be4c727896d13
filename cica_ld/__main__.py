"""``python -m cica_ld``."""

from cica_ld.cli import main

if __name__ == "__main__":
    main()
