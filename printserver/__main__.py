import sys

from printserver.cli import main

if __name__ == "__main__":  # worker processes are spawned and re-import this module as __mp_main__
    sys.exit(main())
