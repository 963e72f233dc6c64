# What the Python logjam's argparse made of each command line: the source of
# the golden rows in test/python-compat.test.ts. Run under Python 2.7 with the
# Python tool on PYTHONPATH (no boto needed to parse):
#   PYTHONPATH=/path/to/python-logjam-0.0.4 python2 test/python/argv.py
import json
import sys

import logjam.compress
import logjam.upload

D = 'LOG_DIR'
A = 'ARCHIVE_DIR/archive'
T = 's3://bucket/{prefix}/{year}/{month}/{day}/{filename}'

LINES = {
    'compress': [
        ['--once', D],
        ['--once', '-l', 'warning', D],
        ['--once', '-lwarning', D],
        ['--once', '-l=error', D],
        ['--once', '--log-level=critical', D],
        ['--once', '--log-level', 'debug', D],
        ['--onc', D],
        ['--o', '--log-lev', 'info', D],
        ['--log=warning', '--once', D],
        [D, '--once', '-l', 'critical'],
        ['--once', '--lo', 'error', D],
        ['--once', '-l', 'warn', D],
        ['--once', '-l', 'loud', D],
        ['--once', '--bogus', D],
    ],
    'upload': [
        ['--once', A, T],
        ['--once', '-lwarning', A, T],
        ['--onc', '--log-level=debug', A, T],
        [A, T, '--o', '-l', 'critical'],
        ['--log', 'error', '--once', A, T],
        ['--once', '-l', 'warn', A, T],
    ],
}


def parse(make_parser, argv):
    parser = make_parser()
    errors = []
    parser.error = lambda message: errors.append(message) or sys.exit(2)
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:
        return {'exit': e.code, 'error': errors[0] if errors else None}
    return {'once': args.once, 'log_level': args.log_level}


for name, module in (('compress', logjam.compress), ('upload', logjam.upload)):
    for argv in LINES[name]:
        print(json.dumps({'tool': name, 'argv': argv, 'python': parse(module.make_parser, argv)}))
