"""``python -m minicnn.coursework``: build and check student versions of assignments.

    python -m minicnn.coursework check SRC              validate the markers, print a summary
    python -m minicnn.coursework make SRC OUT [--force] write the student version to OUT

SRC is an assignment folder (or one .py/.ipynb file) holding the full solution; see the
docstring of ``minicnn.coursework`` for the markers. Problems are printed one per line as
``file:line: what is wrong`` (exit status 1), never as a traceback.
"""

import sys

from .._cli import Parser
from . import MarkerError, check, make


def build_parser():
    parser = Parser(prog="python -m minicnn.coursework",
                     description="Build the student version of an assignment from its solution.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    p = sub.add_parser("check", help="validate the markers of SRC and print a summary")
    p.add_argument("src", metavar="SRC", help="assignment folder or file (the full solution)")
    p = sub.add_parser("make", help="write the student version of SRC to OUT")
    p.add_argument("src", metavar="SRC", help="assignment folder or file (the full solution)")
    p.add_argument("out", metavar="OUT", help="where to write the student version")
    p.add_argument("--force", action="store_true", help="replace OUT if it exists")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        if args.command == "check":
            print(f"markers OK: {check(args.src)}")
        else:
            print(f"wrote {args.out}: {make(args.src, args.out, force=args.force)}")
    except MarkerError as error:
        print(f"{len(error.problems)} marker problem(s), nothing written:"
              if args.command == "make" else f"{len(error.problems)} marker problem(s):",
              file=sys.stderr)
        for problem in error.problems:
            print(problem, file=sys.stderr)
        return 1
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
