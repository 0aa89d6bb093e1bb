"""``python -m xlsx_engine.cli`` runs the ``jxzp`` command line."""

from xlsx_engine.cli.main import main

if __name__ == "__main__":
    import sys
    sys.exit(main())
