// A private CA made for one test run with openssl, and a server certificate
// it signed for localhost and 127.0.0.1: what a TLS-inspecting proxy or an
// in-house S3 presents, trusted only through AWS_CA_BUNDLE / ca_bundle.
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';

export interface TestCa {
  /** The CA certificate's PEM file: the bundle to trust. */
  caFile: string;
  /** The server's key and certificate (PEM text), for s3rver's `key` and `cert`. */
  key: string;
  cert: string;
  /** The CA certificate's PEM text. */
  ca: string;
}

export async function makeTestCa(dir: string): Promise<TestCa> {
  const at = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    at('ca.key'),
    '-out',
    at('ca.pem'),
    '-days',
    '2',
    '-subj',
    '/CN=logjam test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign',
  );
  openssl('req', ...ec, '-keyout', at('server.key'), '-out', at('server.csr'), '-subj', '/CN=localhost');
  await fs.writeFile(at('server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n');
  openssl(
    'x509',
    '-req',
    '-in',
    at('server.csr'),
    '-CA',
    at('ca.pem'),
    '-CAkey',
    at('ca.key'),
    '-CAcreateserial',
    '-out',
    at('server.pem'),
    '-days',
    '2',
    '-extfile',
    at('server.ext'),
  );
  const [key, cert, ca] = await Promise.all(
    ['server.key', 'server.pem', 'ca.pem'].map((name) => fs.readFile(at(name), 'utf8')),
  );
  return { caFile: at('ca.pem'), key: key!, cert: cert!, ca: ca! };
}
