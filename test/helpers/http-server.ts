/**
 * Test helpers: a real file server and a real proxy on 127.0.0.1, started and stopped by the tests (the download
 * code talks to them through Node's own http stack; nothing is mocked). The server counts every body byte it
 * sends, so a test can tell that a resumed download fetched each byte once, and can drop a connection
 * half-way, ignore Range requests or redirect.
 */
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { REPO } from './cli.ts';

export interface ServedRequest {
  path: string;
  range?: string;
  status: number;
}

export interface FileServerOptions {
  /** On the first request for each of these paths, send this many body bytes, then cut the connection. */
  dropAfter?: Record<string, number>;
  /** On the first request for each of these paths, send this many body bytes, then nothing more (the connection stays open). */
  stallAfter?: Record<string, number>;
  /** Answer Range requests with the whole file (status 200). */
  ignoreRange?: boolean;
  /** path → Location of a 302 answer. */
  redirects?: Record<string, string>;
  /** Serve over TLS with the test certificate (test/fixtures/tls). */
  tls?: boolean;
}

export interface FileServer {
  /** Base URL without a trailing slash, e.g. http://127.0.0.1:43210 */
  url: string;
  files: Map<string, Buffer>;
  /** Body bytes sent per path. */
  bytesSent: Map<string, number>;
  requests: ServedRequest[];
  close(): Promise<void>;
}

export const TLS_CERT = fs.readFileSync(path.join(REPO, 'test', 'fixtures', 'tls', '127.0.0.1.crt'));
const TLS_KEY = fs.readFileSync(path.join(REPO, 'test', 'fixtures', 'tls', '127.0.0.1.key'));

/** Closes a server and every connection still open on it. */
function closeServer(server: http.Server | net.Server, sockets: Set<net.Socket>): Promise<void> {
  for (const s of sockets) s.destroy();
  return new Promise((resolve) => server.close(() => resolve()));
}

function trackSockets(server: net.Server): Set<net.Socket> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return sockets;
}

/** Serves `files` (URL path → bytes) with single-range `bytes=N-` support. */
export async function startFileServer(files: Record<string, Buffer>, o: FileServerOptions = {}): Promise<FileServer> {
  const state = { files: new Map(Object.entries(files)), bytesSent: new Map<string, number>(), requests: [] as ServedRequest[] };
  const dropped = new Set<string>();
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const p = new URL(req.url ?? '/', 'http://x').pathname;
    const range = req.headers.range;
    const record = (status: number) => state.requests.push({ path: p, range, status });
    if (o.redirects?.[p]) {
      record(302);
      res.writeHead(302, { location: o.redirects[p] }).end();
      return;
    }
    const body = state.files.get(p);
    if (!body) {
      record(404);
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    let start = 0;
    const m = range && !o.ignoreRange ? /^bytes=(\d+)-$/.exec(range) : null;
    if (m) {
      start = Number(m[1]);
      if (start >= body.length) {
        record(416);
        res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
        return;
      }
      record(206);
      res.writeHead(206, {
        'content-length': body.length - start,
        'content-range': `bytes ${start}-${body.length - 1}/${body.length}`,
        'accept-ranges': 'bytes',
      });
    } else {
      record(200);
      res.writeHead(200, { 'content-length': body.length, 'accept-ranges': 'bytes' });
    }
    let slice = body.subarray(start);
    const stall = o.stallAfter?.[p];
    if (stall !== undefined && !dropped.has(p)) {
      dropped.add(p);
      state.bytesSent.set(p, (state.bytesSent.get(p) ?? 0) + stall);
      res.write(slice.subarray(0, stall));
      return;
    }
    const cut = o.dropAfter?.[p];
    const drop = cut !== undefined && !dropped.has(p);
    if (drop) {
      dropped.add(p);
      slice = slice.subarray(0, cut);
    }
    state.bytesSent.set(p, (state.bytesSent.get(p) ?? 0) + slice.length);
    if (drop) {
      res.write(slice, () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    res.end(slice);
  };
  const server = o.tls ? https.createServer({ cert: TLS_CERT, key: TLS_KEY }, handler) : http.createServer(handler);
  const sockets = trackSockets(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `${o.tls ? 'https' : 'http'}://127.0.0.1:${port}`, ...state, close: () => closeServer(server, sockets) };
}

export interface TestProxy {
  url: string;
  /** 'CONNECT host:port' or 'GET http://…' per request received. */
  log: string[];
  close(): Promise<void>;
}

/** A forward proxy (absolute-URL GETs) with CONNECT tunnels, as corporate proxies are; 127.0.0.1 targets only. */
export async function startProxy(): Promise<TestProxy> {
  const log: string[] = [];
  const server = http.createServer((req, res) => {
    log.push(`${req.method} ${req.url}`);
    const target = new URL(req.url ?? '');
    if (target.hostname !== '127.0.0.1') return void res.writeHead(403).end();
    const up = http.request(
      { host: '127.0.0.1', port: target.port, path: target.pathname + target.search, method: req.method, headers: req.headers },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    up.on('error', () => res.writeHead(502).end());
    up.end();
  });
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    log.push(`CONNECT ${req.url}`);
    const [host, port] = (req.url ?? '').split(':');
    if (host !== '127.0.0.1') return void client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
    const upstream = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    const end = () => (upstream.destroy(), client.destroy());
    upstream.on('error', end);
    client.on('error', end);
  });
  const sockets = trackSockets(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, log, close: () => closeServer(server, sockets) };
}

/** A port on 127.0.0.1 that refuses connections (bound, then closed). */
export async function refusedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
