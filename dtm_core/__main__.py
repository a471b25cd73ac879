"""``python -m dtm_core``: the same entry point as the ``dtm`` console script."""

from dtm_core.cli import main

if __name__ == "__main__":
    main()
