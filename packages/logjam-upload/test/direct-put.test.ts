import { expect } from 'chai';
import { encodeKey } from '../src/direct-put.ts';

describe('encodeKey (the key in a direct PUT’s path)', () => {
  it('encodes each segment as the SDK does for its own PutObject (seen on the wire), keeping the slashes', () => {
    // The path the SDK 3.1175 sent for this key, captured from its request.
    expect(encodeKey('a b/c+d!(x)é.log.gz')).to.equal('a%20b/c%2Bd%21%28x%29%C3%A9.log.gz');
    expect(encodeKey("logs/web/2013/07/04/it's*~-_.log.gz")).to.equal('logs/web/2013/07/04/it%27s%2A~-_.log.gz');
  });
});
