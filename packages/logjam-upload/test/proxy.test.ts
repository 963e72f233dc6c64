// Which proxy a request goes through: the variables as the AWS CLI (Python's
// urllib) and curl read them, NO_PROXY's forms, and the instance-metadata
// service, never proxied. Pure functions; the binary's behaviour is proven in
// test/egress-proxy.test.ts.
import { expect } from 'chai';
import {
  bypassesProxy,
  describeProxyRoute,
  maskUrl,
  parseNoProxyEntry,
  parseProxy,
  proxyFor,
  readProxySettings,
  type NoProxyEntry,
} from '../src/proxy.ts';

const entries = (text: string) =>
  text
    .split(',')
    .map(parseNoProxyEntry)
    .filter((e): e is NoProxyEntry => e !== undefined);
const via = (env: NodeJS.ProcessEnv, url: string) => {
  const u = new URL(url);
  return proxyFor(
    readProxySettings(env),
    u.protocol,
    u.hostname.replace(/^\[|\]$/g, ''),
    Number(u.port) || (u.protocol === 'https:' ? 443 : 80),
  )?.shown;
};

describe('proxy settings from the environment', () => {
  it('HTTPS_PROXY for https endpoints, HTTP_PROXY for http ones; the lower-case variable wins, and set empty it means none', () => {
    const env = { HTTPS_PROXY: 'http://secure:3128', HTTP_PROXY: 'http://plain:8080' };
    expect(via(env, 'https://s3.amazonaws.com')).to.equal('http://secure:3128');
    expect(via(env, 'http://minio:9000')).to.equal('http://plain:8080');
    expect(via({ ...env, https_proxy: 'http://lower:1' }, 'https://s3.amazonaws.com')).to.equal('http://lower:1');
    expect(via({ ...env, https_proxy: '' }, 'https://s3.amazonaws.com')).to.equal(undefined);
    expect(via({}, 'https://s3.amazonaws.com')).to.equal(undefined);
    expect(via({}, 'http://minio:9000')).to.equal(undefined);
  });

  it('with no HTTPS variable at all, HTTPS goes through http_proxy, as the Python logjam (boto 2) sent it; one set empty keeps it direct', () => {
    expect(via({ http_proxy: 'http://plain:8080' }, 'https://s3.amazonaws.com')).to.equal('http://plain:8080');
    expect(readProxySettings({ http_proxy: 'http://plain:8080' }).https?.source).to.equal('http_proxy');
    expect(via({ http_proxy: 'http://plain:8080', HTTPS_PROXY: '' }, 'https://s3.amazonaws.com')).to.equal(undefined);
    expect(via({ http_proxy: 'http://plain:8080', https_proxy: '' }, 'https://s3.amazonaws.com')).to.equal(undefined);
  });

  it('a proxy URL without a scheme is http://, port 80 by default; credentials become Proxy-Authorization and are masked', () => {
    expect(parseProxy('HTTPS_PROXY', 'proxy.corp:3128')).to.include({
      hostname: 'proxy.corp',
      port: 3128,
      shown: 'http://proxy.corp:3128',
    });
    expect(parseProxy('HTTPS_PROXY', 'http://proxy.corp/')).to.include({ port: 80, shown: 'http://proxy.corp' });
    const withCredentials = parseProxy('HTTPS_PROXY', 'http://us%40er:p%3Ass@[::1]:3128');
    expect(withCredentials).to.include({ hostname: '::1', port: 3128, shown: 'http://us%40er:***@[::1]:3128' });
    expect(Buffer.from(withCredentials.authorization!.replace('Basic ', ''), 'base64').toString()).to.equal(
      'us@er:p:ss',
    );
    expect(maskUrl('http://user:secret@proxy:3128')).to.equal('http://user:***@proxy:3128');
    expect(maskUrl('http://token@proxy:3128')).to.equal('http://token@proxy:3128');
  });

  it('a proxy URL that is not http:// is one clear line (exit 2), its password masked', () => {
    expect(() => parseProxy('HTTPS_PROXY', 'socks5://u:secret@proxy:1080')).to.throw(
      /^HTTPS_PROXY 'socks5:\/\/u:\*\*\*@proxy:1080': only http:\/\/ proxies/,
    );
    expect(() => parseProxy('http_proxy', 'http://u:secret@proxy:99999')).to.throw(
      /^http_proxy 'http:\/\/u:\*\*\*@proxy:99999' is not a proxy URL/,
    );
  });
});

describe('NO_PROXY', () => {
  it('a host name matches itself and its subdomains; a leading dot (or *.) is the same domain', () => {
    for (const list of ['example.com', '.example.com', '*.example.com']) {
      expect(bypassesProxy('example.com', 443, entries(list)), list).to.equal(true);
      expect(bypassesProxy('s3.eu.EXAMPLE.com', 443, entries(list)), list).to.equal(true);
      expect(bypassesProxy('badexample.com', 443, entries(list)), list).to.equal(false);
      expect(bypassesProxy('example.com.evil.net', 443, entries(list)), list).to.equal(false);
    }
  });

  it('* exempts every host; entries are separated by commas or spaces', () => {
    expect(bypassesProxy('anything.at.all', 80, entries('*'))).to.equal(true);
    expect(via({ HTTPS_PROXY: 'http://p:1', NO_PROXY: 'a.com  b.com,c.com' }, 'https://x.b.com')).to.equal(undefined);
    expect(via({ HTTPS_PROXY: 'http://p:1', NO_PROXY: 'a.com  b.com,c.com' }, 'https://d.com')).to.equal('http://p:1');
  });

  it('a port restricts an entry to that port', () => {
    expect(bypassesProxy('minio', 9000, entries('minio:9000'))).to.equal(true);
    expect(bypassesProxy('minio', 9001, entries('minio:9000'))).to.equal(false);
    expect(bypassesProxy('::1', 9000, entries('[::1]:9000'))).to.equal(true);
    expect(bypassesProxy('::1', 9001, entries('[::1]:9000'))).to.equal(false);
  });

  it('IP addresses match exactly, or by CIDR range (IPv4 and IPv6); a range never matches a host name', () => {
    expect(bypassesProxy('10.1.2.3', 443, entries('10.0.0.0/8'))).to.equal(true);
    expect(bypassesProxy('11.1.2.3', 443, entries('10.0.0.0/8'))).to.equal(false);
    expect(bypassesProxy('192.168.1.1', 443, entries('192.168.1.1'))).to.equal(true);
    expect(bypassesProxy('fd12::1', 443, entries('fd00::/8'))).to.equal(true);
    expect(bypassesProxy('fe80::1', 443, entries('fd00::/8'))).to.equal(false);
    expect(bypassesProxy('10.example.com', 443, entries('10.0.0.0/8'))).to.equal(false);
    // An IP address is no domain: the entry 2.3.4 does not cover 1.2.3.4.
    expect(bypassesProxy('1.2.3.4', 443, entries('2.3.4'))).to.equal(false);
  });

  it('the lower-case no_proxy wins over NO_PROXY', () => {
    expect(via({ HTTP_PROXY: 'http://p:1', NO_PROXY: 'minio', no_proxy: 'other' }, 'http://minio:9000')).to.equal(
      'http://p:1',
    );
  });
});

describe('the instance-metadata service is never proxied', () => {
  it('169.254.169.254, [fd00:ec2::254] and AWS_EC2_METADATA_SERVICE_ENDPOINT go direct, whatever the variables say', () => {
    const env = {
      HTTP_PROXY: 'http://p:1',
      HTTPS_PROXY: 'http://p:1',
      AWS_EC2_METADATA_SERVICE_ENDPOINT: 'http://metadata.internal:1338/',
    };
    expect(via(env, 'http://169.254.169.254/latest/api/token')).to.equal(undefined);
    expect(via(env, 'http://[fd00:ec2::254]/latest/api/token')).to.equal(undefined);
    expect(via(env, 'http://metadata.internal:1338/latest')).to.equal(undefined);
    expect(via(env, 'http://169.254.169.253/')).to.equal('http://p:1');
  });
});

describe('describeProxyRoute (for --check and the debug log)', () => {
  it('names the proxy without its password, or says why there is none; nothing when no proxy variable is set', () => {
    expect(describeProxyRoute(readProxySettings({ HTTPS_PROXY: 'http://u:pw@proxy:3128' }), undefined)).to.equal(
      'proxy: http://u:***@proxy:3128 (HTTPS_PROXY) for AWS S3 (https), with CONNECT',
    );
    expect(
      describeProxyRoute(
        readProxySettings({ HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: '.amazonaws.com' }),
        undefined,
      ),
    ).to.equal('proxy: none for AWS S3 (https) (NO_PROXY exempts it)');
    expect(describeProxyRoute(readProxySettings({ HTTPS_PROXY: 'http://proxy:3128' }), 'http://minio:9000')).to.equal(
      'proxy: none for http://minio:9000 (no HTTP_PROXY)',
    );
    expect(describeProxyRoute(readProxySettings({ NO_PROXY: '*' }), 'http://minio:9000')).to.equal(undefined);
    expect(describeProxyRoute(readProxySettings({ HTTP_PROXY: 'http://proxy:3128' }), 'not a url')).to.equal(undefined);
  });
});
