import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bypassesProxy, HttpError, proxyFor } from '../../src/io/http.ts';

const u = (s: string) => new URL(s);

test('proxyFor: HTTPS_PROXY for https, HTTP_PROXY for http, ALL_PROXY for both, lower-case names too', () => {
  const env = { HTTPS_PROXY: 'http://secure:3128', http_proxy: 'plain:8080' };
  assert.equal(proxyFor(u('https://huggingface.co/x'), env)?.href, 'http://secure:3128/');
  assert.equal(proxyFor(u('http://example.org/x'), env)?.href, 'http://plain:8080/', 'a bare host:port gets http://');
  assert.equal(proxyFor(u('https://a.org/'), { ALL_PROXY: 'http://all:1' })?.host, 'all:1');
  assert.equal(proxyFor(u('https://a.org/'), {}), null);
  assert.equal(proxyFor(u('file:///tmp/x'), env), null);
  assert.throws(
    () => proxyFor(u('https://a.org/'), { HTTPS_PROXY: 'socks5://s:1080' }),
    (e: unknown) => e instanceof HttpError && /only http:\/\/ proxies/.test(e.message),
  );
});

test('NO_PROXY: *, host names with their subdomains, .domain, host:port, IPv6, spaces or commas', () => {
  assert.equal(bypassesProxy(u('https://x.org/'), '*'), true);
  assert.equal(bypassesProxy(u('https://data.caltech.edu/'), 'caltech.edu'), true);
  assert.equal(bypassesProxy(u('https://caltech.edu/'), '.caltech.edu'), true);
  assert.equal(bypassesProxy(u('https://notcaltech.edu/'), 'caltech.edu'), false);
  assert.equal(bypassesProxy(u('http://127.0.0.1:8080/'), 'localhost, 127.0.0.1:8080'), true);
  assert.equal(bypassesProxy(u('http://127.0.0.1:9090/'), 'localhost 127.0.0.1:8080'), false);
  assert.equal(bypassesProxy(u('https://h.org/'), 'h.org:443'), true, 'default port of the scheme');
  assert.equal(bypassesProxy(u('http://[::1]:80/'), '[::1]'), true);
  assert.equal(bypassesProxy(u('https://x.org/'), ''), false);
  assert.equal(proxyFor(u('https://hf.co/a'), { HTTPS_PROXY: 'http://p:1', no_proxy: 'hf.co' }), null);
});
