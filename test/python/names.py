# What the Python logjam 0.0.4 made of file names: parse_filename() (prefix,
# stamp, suffix, extension, or not a log file), the files compress closed at a
# given time, and the names it gave duplicates. The golden rows of
# packages/logjam-compress/test/python-names.golden.json (names as chars 0-255).
# Run under Python 2.7 with the Python tool on PYTHONPATH:
#   python2 test/python/names.py > packages/logjam-compress/test/python-names.golden.json
import datetime
import json
import os
import tempfile

from logjam import compress, parse

NAMES = [
    'haproxy-20130704T0000Z-us-west-2-i-ae23fega.log', 'app-2013-07-27T12:00Z.log', 'app-20130727T1200Z.log.gz',
    'a-b-c-20240101T0000Z-x-y.z.log', 'x-20240101T0000Z-20240202T0100Z.log', 'app-20240101T0000Z', 'app-20240101T0000Z.',
    '-20240101T0000Z.log', 'app20240101T0000Z.log', 'app-20240101T00:00Z.log', 'app-2024-0101T0000Z.log',
    'app-20240101T0000Z-.log', 'app-20240101T0000Z-s.log.1', 'app-20240101T0000ZZ.log', 'app-20241301T0000Z.log',
    'app-20240230T0000Z.log', 'app-20240229T0000Z.log', 'app-20230229T0000Z.log', 'app-20240101T2400Z.log',
    'app-20240101T0060Z.log', 'app-00000101T0000Z.log', 'app-00010101T0000Z.log', '.app-20240101T0000Z.log.swp',
    'app-20240101T0000Z.log.tmp', 'app-20240101T0000Z.log~', 'a\nb-20240101T0000Z.log', 'app-20240101T0000Z.lo\ng',
    'caf\xc3\xa9-20240305T0700Z-i-9.log', 'caf\xe9-20240305T0700Z-i-9.log', 'app-20240101t0000z.log',
    'app-20240101T0000Z-web 1.log', 'app-\xd9\xa320240101T0000Z.log', 'APP-20240101T0000Z.LOG', 'app-20240101T0000Z..log',
    'app-2024-01-01T00:00Z-i.log.gz', 'app-20240101T0000Z-i-.log', 'a-20240101T0000Z.b-20240102T0000Z.log',
]


def parsed(name):
    lf = parse.parse_filename(name)
    if lf is None:
        return None
    return {'prefix': lf.prefix.decode('latin1'), 'stamp': '%04d%02d%02dT%02d%02dZ' % (lf.timestamp.year, lf.timestamp.month, lf.timestamp.day, lf.timestamp.hour, lf.timestamp.minute),
            'suffix': (lf.suffix or '').decode('latin1'), 'extension': lf.extension.decode('latin1')}


# Closing: which of a folder's files compress took at `now`.
FOLDERS = [
    (['app-20240101T0000Z.log'], '2024-01-01T01:05'),
    (['app-20240101T0000Z.log'], '2024-01-01T01:05:01'),
    (['app-20240101T0000Z.log'], '2024-01-01T01:04:59'),
    (['app-20240101T0000Z.log', 'app-20240101T0100Z.log'], '2024-01-01T01:00'),
    (['app-20240101T0000Z.log', 'app-20240101T0100Z.log', 'app-20240101T0200Z.log'], '2024-01-01T02:30'),
    (['app-20240101T0000Z-a.log', 'app-20240101T0100Z-b.log'], '2024-01-01T01:30'),
    (['app-20240101T0000Z.log', 'app-20240101T0100Z.log.gz'], '2024-01-01T01:30'),
    (['app-20240101T0000Z.log', 'app-2024-01-01T01:00Z.log'], '2024-01-01T01:30'),
    (['app-20240101T1200Z.log', 'app-20240101T0000Z.log'], '2024-01-01T00:30'),
    (['a-20240101T0000Z.log', 'b-20240101T0100Z.log'], '2024-01-01T01:30'),
    (['app-20240101T0000Z.log', 'app-20240101T0030Z.log'], '2024-01-01T00:45'),
    (['app-20240101T2300Z.log'], '2024-01-02T00:05:00.001'),
]

rows = [{'name': n.decode('latin1'), 'python': parsed(n)} for n in NAMES]
closing = []
for names, now in FOLDERS:
    fmt = '%Y-%m-%dT%H:%M:%S.%f' if '.' in now else ('%Y-%m-%dT%H:%M:%S' if now.count(':') == 2 else '%Y-%m-%dT%H:%M')
    at = datetime.datetime.strptime(now, fmt)
    closing.append({'names': names, 'now': at.isoformat() + 'Z', 'python': [lf.filename for lf in compress.yield_old_logfiles(names, at)]})

# Duplicates: the names compress_path gave when archive/NAME.gz existed, as more and more were taken.
duplicates = []
for name in ['app-20240101T0000Z.log', 'app-2024-01-01T00:00Z-web1.log', 'a-b-20240101T0000Z-c.log.1']:
    archive = tempfile.mkdtemp()
    taken = []
    path = os.path.join(archive, name + '.gz')
    open(path, 'w').close()
    for _ in range(3):
        new = compress.duplicate_timestamp_path(path)
        taken.append(os.path.basename(new))
        open(new, 'w').close()
    duplicates.append({'name': name, 'python': taken})

print json.dumps({'names': rows, 'closing': closing, 'duplicates': duplicates}, indent=0, sort_keys=True)
