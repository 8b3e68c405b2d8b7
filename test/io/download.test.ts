import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { UserError } from '../../src/errors.ts';
import { downloadFile, sha256File, type RemoteFile } from '../../src/io/download.ts';
import { refusedPort, startFileServer, startProxy, TLS_CERT } from '../helpers/http-server.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mic-download-test-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const DATA = randomBytes(300_000);
const SHA = createHash('sha256').update(DATA).digest('hex');
const quiet = { progress: { stream: { write: () => true }, tty: false }, retryDelayMs: 10, http: { env: {} } };

function remote(urls: string[], over: Partial<RemoteFile> = {}): RemoteFile {
  return { name: 'blob.bin', urls, size: DATA.length, sha256: SHA, ...over };
}

function dest(name: string): string {
  return path.join(tmp, name, 'blob.bin');
}

const listing = (file: string) => (fs.existsSync(path.dirname(file)) ? fs.readdirSync(path.dirname(file)).sort() : []);

test('downloads, verifies and renames into place; a second call only verifies', async () => {
  const srv = await startFileServer({ '/blob.bin': DATA });
  try {
    const file = dest('ok');
    assert.equal(await downloadFile(remote([`${srv.url}/blob.bin`]), file, quiet), 'downloaded');
    assert.ok(fs.readFileSync(file).equals(DATA));
    assert.deepEqual(listing(file), ['blob.bin']);
    assert.equal(await downloadFile(remote([`${srv.url}/blob.bin`]), file, quiet), 'present');
    assert.equal(srv.requests.length, 1, 'the second call made no request');
  } finally {
    await srv.close();
  }
});

test('a connection dropped mid-file is resumed with a Range request; every byte is fetched once', async () => {
  const srv = await startFileServer({ '/blob.bin': DATA }, { dropAfter: { '/blob.bin': 120_000 } });
  try {
    const file = dest('drop');
    const lines: string[] = [];
    assert.equal(await downloadFile(remote([`${srv.url}/blob.bin`]), file, { ...quiet, log: (l) => lines.push(l) }), 'downloaded');
    assert.ok(fs.readFileSync(file).equals(DATA));
    assert.equal(srv.bytesSent.get('/blob.bin'), DATA.length, 'bytes served in total = file size');
    assert.deepEqual(
      srv.requests.map((r) => [r.status, r.range]),
      [
        [200, undefined],
        [206, 'bytes=120000-'],
      ],
    );
    assert.ok(
      lines.some((l) => /resuming at 120\.0 kB/.test(l)),
      lines.join('\n'),
    );
  } finally {
    await srv.close();
  }
});

test('a partial file left by an earlier, killed download is resumed by the next call', async () => {
  const srv = await startFileServer({ '/blob.bin': DATA });
  try {
    const file = dest('killed');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(`${file}.part`, DATA.subarray(0, 77_777));
    assert.equal(await downloadFile(remote([`${srv.url}/blob.bin`]), file, quiet), 'downloaded');
    assert.ok(fs.readFileSync(file).equals(DATA));
    assert.equal(srv.bytesSent.get('/blob.bin'), DATA.length - 77_777);
    assert.equal(srv.requests[0].range, 'bytes=77777-');
  } finally {
    await srv.close();
  }
});

test('a server that ignores Range: the partial file starts over and the result is still right', async () => {
  const srv = await startFileServer({ '/blob.bin': DATA }, { ignoreRange: true });
  try {
    const file = dest('norange');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(`${file}.part`, Buffer.alloc(50_000, 7));
    assert.equal(await downloadFile(remote([`${srv.url}/blob.bin`]), file, quiet), 'downloaded');
    assert.equal(await sha256File(file), SHA);
  } finally {
    await srv.close();
  }
});

test('a wrong checksum: one-line error, nothing left behind', async () => {
  const flipped = Buffer.from(DATA);
  flipped[12345] ^= 1;
  const srv = await startFileServer({ '/blob.bin': flipped });
  try {
    const file = dest('badsum');
    await assert.rejects(downloadFile(remote([`${srv.url}/blob.bin`]), file, quiet), (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.match(e.message, /^blob\.bin: sha256 mismatch \(got [0-9a-f]{64}, expected [0-9a-f]{64}\); the downloaded file was deleted$/);
      return true;
    });
    assert.deepEqual(listing(file), []);
  } finally {
    await srv.close();
  }
});

test('404, refused connection, wrong size: one-line errors, no file created; the next URL is tried', async () => {
  const srv = await startFileServer({ '/blob.bin': DATA, '/short.bin': DATA.subarray(1) });
  const port = await refusedPort();
  try {
    const file = dest('errors');
    await assert.rejects(
      downloadFile(remote([`${srv.url}/missing.bin`]), file, quiet),
      /^UserError: blob\.bin: download failed \(http:\/\/127\.0\.0\.1:\d+\/missing\.bin: HTTP 404 Not Found\)$/,
    );
    await assert.rejects(
      downloadFile(remote([`http://127.0.0.1:${port}/blob.bin`]), file, quiet),
      /download failed \(.*: connection refused by 127\.0\.0\.1:\d+\)$/,
    );
    await assert.rejects(
      downloadFile(remote([`${srv.url}/short.bin`]), file, quiet),
      /the server offers 299999 bytes, the sources table says 300000/,
    );
    assert.equal(fs.existsSync(path.dirname(file)), false, 'not even the folder was created');
    // Mirrors: a dead first URL falls through to a working one.
    assert.equal(
      await downloadFile(remote([`http://127.0.0.1:${port}/x`, `${srv.url}/missing.bin`, `${srv.url}/blob.bin`]), file, quiet),
      'downloaded',
    );
  } finally {
    await srv.close();
  }
});

test('redirects are followed, Range and all', async () => {
  const srv = await startFileServer(
    { '/real/blob.bin': DATA },
    { redirects: { '/blob.bin': '/real/blob.bin' }, dropAfter: { '/real/blob.bin': 1000 } },
  );
  try {
    const file = dest('redirect');
    assert.equal(await downloadFile(remote([`${srv.url}/blob.bin`]), file, quiet), 'downloaded');
    assert.ok(fs.readFileSync(file).equals(DATA));
    assert.deepEqual(
      srv.requests.map((r) => `${r.status} ${r.path} ${r.range ?? ''}`.trim()),
      ['302 /blob.bin', '200 /real/blob.bin', '302 /blob.bin bytes=1000-', '206 /real/blob.bin bytes=1000-'],
    );
  } finally {
    await srv.close();
  }
});

test('HTTP_PROXY: an http URL goes to the proxy as an absolute URL; NO_PROXY bypasses it', async () => {
  const srv = await startFileServer({ '/blob.bin': DATA });
  const proxy = await startProxy();
  try {
    const file = dest('proxy-http');
    assert.equal(await downloadFile(remote([`${srv.url}/blob.bin`]), file, { ...quiet, http: { env: { HTTP_PROXY: proxy.url } } }), 'downloaded');
    assert.deepEqual(proxy.log, [`GET ${srv.url}/blob.bin`]);
    const file2 = dest('proxy-bypass');
    await downloadFile(remote([`${srv.url}/blob.bin`]), file2, {
      ...quiet,
      http: { env: { http_proxy: proxy.url, NO_PROXY: 'localhost,127.0.0.1' } },
    });
    assert.equal(proxy.log.length, 1, 'NO_PROXY: straight to the server');
    assert.ok(fs.readFileSync(file2).equals(DATA));
  } finally {
    await proxy.close();
    await srv.close();
  }
});

test('HTTPS_PROXY: an https URL goes through a CONNECT tunnel (TLS end to end), resuming included', async () => {
  const srv = await startFileServer({ '/blob.bin': DATA }, { tls: true, dropAfter: { '/blob.bin': 100_000 } });
  const proxy = await startProxy();
  try {
    const file = dest('proxy-https');
    const o = { ...quiet, http: { env: { HTTPS_PROXY: proxy.url }, ca: TLS_CERT } };
    assert.equal(await downloadFile(remote([`${srv.url}/blob.bin`]), file, o), 'downloaded');
    assert.ok(fs.readFileSync(file).equals(DATA));
    const port = new URL(srv.url).port;
    assert.deepEqual(proxy.log, [`CONNECT 127.0.0.1:${port}`, `CONNECT 127.0.0.1:${port}`]);
    assert.equal(srv.bytesSent.get('/blob.bin'), DATA.length);
  } finally {
    await proxy.close();
    await srv.close();
  }
});

test('file:// sources (a mirror on a shared disk) and an existing file that differs from the table', async () => {
  const mirror = path.join(tmp, 'mirror.bin');
  fs.writeFileSync(mirror, DATA);
  const file = dest('file-url');
  assert.equal(await downloadFile(remote([pathToFileURL(mirror).href]), file, quiet), 'downloaded');
  assert.ok(fs.readFileSync(file).equals(DATA));
  const other = dest('other');
  fs.mkdirSync(path.dirname(other), { recursive: true });
  fs.writeFileSync(other, Buffer.alloc(DATA.length));
  await assert.rejects(
    downloadFile(remote([pathToFileURL(mirror).href]), other, quiet),
    /exists but its sha256 is [0-9a-f]{64}, not [0-9a-f]{64} \(blob\.bin\); it was left untouched/,
  );
  assert.equal(fs.readFileSync(other).length, DATA.length, 'left untouched');
});

test('an aborted download keeps its partial file and says how to resume (exit code 130)', async () => {
  const srv = await startFileServer({ '/blob.bin': DATA }, { dropAfter: { '/blob.bin': 64_000 } });
  try {
    const file = dest('abort');
    const ac = new AbortController();
    // Abort as soon as the drop is logged, i.e. while waiting to retry.
    const o = { ...quiet, retryDelayMs: 5000, signal: ac.signal, log: (l: string) => void (/retrying/.test(l) && ac.abort()) };
    await assert.rejects(downloadFile(remote([`${srv.url}/blob.bin`]), file, o), (e: unknown) => {
      assert.ok(e instanceof UserError && e.exitCode === 130, String(e));
      assert.match(e.message, /^interrupted: 64\.0 kB of 300\.0 kB kept in .*blob\.bin\.part; run the same command again to resume$/);
      return true;
    });
    assert.equal(fs.statSync(`${file}.part`).size, 64_000);
  } finally {
    await srv.close();
  }
});

test('not enough free space: refused before anything is fetched', async () => {
  const srv = await startFileServer({ '/blob.bin': DATA });
  try {
    const file = dest('nospace');
    const huge = remote([`${srv.url}/blob.bin`], { size: Number.MAX_SAFE_INTEGER });
    await assert.rejects(downloadFile(huge, file, quiet), /^UserError: downloading blob\.bin needs \d+\.\d+ GB in .*, which has .* free$/);
    assert.equal(srv.requests.length, 0);
  } finally {
    await srv.close();
  }
});
