"""``python -m srmscope [FILE...]``: open the viewer (the demo without arguments)."""
import sys

from ._viewer import main as _main


def main():
    return _main(["--"] + sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
