"""`python -m printserver` and the `printserver` command (pyproject's console script points here).

Nothing is imported at the top, on purpose: render workers are spawned, and a spawned process first
re-runs the script that started its parent (the `printserver` console script, as `__mp_main__`), so
whatever that script imports, every render worker imports too — the command line would bring pydicom
and pynetdicom, ~20 MB per worker. (`python -m printserver` is not re-run in the workers at all.)
"""

import sys


def main() -> int:
    from printserver.cli import main as cli_main

    return cli_main()


if __name__ == "__main__":
    sys.exit(main())
