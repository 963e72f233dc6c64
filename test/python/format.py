# What Python 2.7's format() made of the values the Python logjam put in its
# template (year an int, the other fields byte strings): the golden rows of
# packages/logjam-upload/test/pyformat.golden.json, each byte as one char
# (0-255, JSON \u00XX above 0x7f), as the byte strings logjam computes with.
# Run under Python 2.7:
#   python2 test/python/format.py > packages/logjam-upload/test/pyformat.golden.json
import json

SPECS = [
    '', 's', 'd', '04d', '>6', '<6', '^7', '*^7', '=8', '08', '+d', ' d', '-d', '+', '#x', '#o', '#b', 'X', '#X',
    'x', ',', ',d', '010,d', '04,d', '05,d', '06,d', '.3', '.2s', '10.3', '>10.2', 'c', '+c', 'n', 'e', '.2e',
    '.0e', '.1e', '.3e', 'E', 'f', '.2f', '.0f', '#.0f', 'F', 'g', '.2g', '.3g', '.4g', '.5g', '.1g', '.0g', '#g',
    'G', '.2G', '%', '.1%', ',.2f', '012,.2f', '+08.2f', '=+10', '0>6', 'x<6', '^', '3', '.', 'q', '+s', '#s',
    '=5s', ',s', '05', '/>10', '{', '.0', ',x', '10,', 'dd', '.2%', '#.3g', '.30f', '.17g', '.25e', '^8,d',
    '+,', '_', '<', '=', '-^9', ' ^9', '0=8', '#010x', '+#x', '#010b', ',.0f', ',e', ',g', '010.1f', '+.3e',
    ' %', '^12,.2f', '0<8', '0^9', ',n', '.3n', '08.3', '\xe9>6',
]
VALUES = [
    ('year 2013', 2013), ('year 5', 5), ('year 2025', 2025), ('year 9999', 9999), ('prefix haproxy', 'haproxy'),
    ('month 07', '07'), ('prefix caf\\xc3\\xa9 (UTF-8)', 'caf\xc3\xa9'), ('prefix caf\\xe9 (Latin-1)', 'caf\xe9'),
    ("prefix it's", "it's"), ('prefix tab\\tq"\'', 'tab\tq"\''),
]

rows = []
for spec in SPECS:
    for label, value in VALUES:
        try:
            rows.append({'spec': spec.decode('latin1'), 'value': label, 'python': {'bytes': format(value, spec).decode('latin1')}})
        except Exception as e:
            rows.append({'spec': spec.decode('latin1'), 'value': label, 'python': {'error': '%s: %s' % (type(e).__name__, e)}})
for conversion in ['s', 'r']:
    for label, value in VALUES:
        for spec in ['', '>12', '.3']:
            field = '{0!' + conversion + ':' + spec + '}'
            try:
                rows.append({'conversion': conversion, 'spec': spec.decode('latin1'), 'value': label, 'python': {'bytes': field.format(value).decode('latin1')}})
            except Exception as e:
                rows.append({'conversion': conversion, 'spec': spec.decode('latin1'), 'value': label, 'python': {'error': '%s: %s' % (type(e).__name__, e)}})
print '[\n' + ',\n'.join(json.dumps(row, sort_keys=True) for row in rows) + '\n]'
