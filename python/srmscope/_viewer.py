"""Child process of :func:`srmscope.view`: ``python -m srmscope._viewer [--settings JSON]
[--cleanup DIR] [--compare FILE] -- FILE...``. Runs the viewer until its window closes."""
import argparse
import shutil
import sys

from . import _core


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m srmscope._viewer")
    ap.add_argument("--settings")
    ap.add_argument("--cleanup")
    ap.add_argument("--compare", action="append", default=[])
    ap.add_argument("files", nargs="*")
    a = ap.parse_args(argv)
    try:
        _core.run_viewer(a.files, a.settings, a.compare)
    except Exception as e:  # one line, as the CLI prints it
        print("error: %s" % e, file=sys.stderr)
        return 1
    finally:
        if a.cleanup:
            shutil.rmtree(a.cleanup, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
