# What the Python logjam 0.0.4 made of upload templates: the URI its
# get_logfile_uri() rendered for a file and the bucket and key boto 2.49's
# storage_uri() took from it, or the error it stopped with. The golden rows of
# packages/logjam-upload/test/template.golden.json (bytes as chars 0-255).
# Run under Python 2.7 with the Python tool and boto 2.49 on PYTHONPATH:
#   python2 test/python/template.py > packages/logjam-upload/test/template.golden.json
import json

import boto
from logjam import parse, s3_uploader

NAMES = [
    'haproxy-20130704T0905Z-us-west-2-i-ae23fega.log.gz',
    'db-2024-02-29T23:00Z.log.gz',
    'caf\xc3\xa9-20240305T0700Z-i-9.log.gz',
    'caf\xe9-20240305T0700Z-i-9.log.gz',
    'a#b-20240101T0000Z.log.gz',
    'web-00050101T0000Z.log.gz',
]
TEMPLATES = [
    's3://YOUR_BUCKET/{prefix}/{year}/{month}/{day}/{filename}',
    'S3://logs/{prefix}/{year}/{month}/{day}/{filename}',
    's3://logs-{prefix}/{year}/{month}/{day}/{filename}',
    's3://{prefix}-logs.example/{year}/{month}/{day}/{filename}',
    's3://logs/{prefix}/{year:04d}/{month!s}/{day}/{filename}',
    's3://logs/{prefix:.3}/{year}/{month}/{day}/{filename}',
    's3://logs/{{braces}}/{prefix}/{year}/{month}/{day}/{filename}',
    's3://logs/{prefix!r}/{year:+}/{month:>3}/{day:^4}/{filename}',
    's3://logs/{prefix}/{year:x}/{month}/{day}/{hour}{minute}/{filename}',
    's3://logs/{prefix:*<10}/{year:,}/{month}/{day}/{filename!s:.12}',
    's3://logs/{prefix:.4}/{year:.1e}/{month}/{day}/{filename}',
    's3://logs/{prefix}/{year}/{month:d}/{day}/{filename}',
    's3://logs/{prefix}/{year}/{month}/{filename}',
    's3://logs/{prefix}/{year}/{month}/{day}/{filename}/{host}',
    's3://logs/{prefix}/{year}}/{month}/{day}/{filename}',
]


def render(template, name):
    logfile = parse.parse_filename(name)
    try:
        # What check_uri did at start: render the sample file, which also checks the mandatory fields.
        s3_uploader.get_logfile_uri(template, parse.SAMPLE_LOGFILE)
    except Exception as e:
        return {'start': ('%s: %s' % (type(e).__name__, e)).decode('latin1')}
    try:
        uri = s3_uploader.get_logfile_uri(template, logfile)
    except Exception as e:
        return {'render': ('%s: %s' % (type(e).__name__, e)).decode('latin1')}
    try:
        u = boto.storage_uri(uri)
    except Exception as e:
        return {'uri': uri.decode('latin1'), 'boto': ('%s: %s' % (type(e).__name__, e)).decode('latin1')}
    return {'uri': uri.decode('latin1'), 'bucket': u.bucket_name.decode('latin1'), 'key': u.object_name.decode('latin1'), 'version_id': u.version_id}


rows = [{'template': t, 'name': n.decode('latin1'), 'python': render(t, n)} for t in TEMPLATES for n in NAMES]
print '[\n' + ',\n'.join(json.dumps(row, sort_keys=True) for row in rows) + '\n]'
