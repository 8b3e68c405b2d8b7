/**
 * HTTP(S) GET for downloads, on Node's own http/https: redirects are followed (a `Range` header travels with
 * them), and proxies come from the environment the way curl reads it — `HTTPS_PROXY` for https URLs,
 * `HTTP_PROXY` for http URLs, `ALL_PROXY` for both (lower-case names too), `NO_PROXY` for exceptions. An https
 * URL goes through the proxy in a CONNECT tunnel; an http URL is sent to the proxy with its absolute URL.
 * Only http:// proxies are supported. Failures are `HttpError`s with one-line messages; callers decide what
 * they mean for the user.
 */
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';

export class HttpError extends Error {
  /** HTTP status when the server answered, else undefined (connection-level failure). */
  readonly status?: number;
  /** Whether trying the same URL again may help (a dropped connection, a 5xx), as opposed to a refusal or a 404. */
  readonly retryable: boolean;
  constructor(message: string, status?: number, retryable = false) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.retryable = retryable;
  }
}

/** Connection errors worth a second try; a refused connection or an unknown host is not. */
const TRANSIENT = new Set(['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ECONNABORTED', 'EAI_AGAIN', 'UND_ERR_SOCKET']);

function networkError(e: unknown, where: string): Error {
  if ((e as Error)?.name === 'AbortError') return e as Error;
  return new HttpError(describeNetworkError(e, where), undefined, TRANSIENT.has((e as NodeJS.ErrnoException)?.code ?? ''));
}

export interface HttpGetOptions {
  headers?: Record<string, string>;
  /** Redirects followed before giving up; default 10. */
  maxRedirects?: number;
  /** A connection with no traffic for this long is dropped; default 60 s. */
  idleTimeoutMs?: number;
  /** Where proxy settings are read; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Certificates trusted instead of the system roots (tests with a local TLS server). */
  ca?: string | Buffer;
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body; the caller consumes or destroys it. */
  body: IncomingMessage;
  /** The URL that answered (after redirects). */
  url: string;
}

function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name] ?? env[name.toLowerCase()];
  return v && v.trim() ? v.trim() : undefined;
}

/** Whether `NO_PROXY` (comma or space separated: `*`, host names, `.domain`, `host:port`, IP addresses) exempts `url`. */
export function bypassesProxy(url: URL, noProxy: string | undefined): boolean {
  if (!noProxy) return false;
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  for (const raw of noProxy.split(/[\s,]+/)) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return true;
    // [v6]:port, a bare v6 address (several colons), or name[:port].
    const m = /^\[(.*)\](?::(\d+))?$/.exec(entry) ?? (entry.split(':').length > 2 ? [entry, entry] : /^(.*?)(?::(\d+))?$/.exec(entry)!);
    const [name, entryPort] = [m[1].replace(/^\*?\./, '.'), m[2]];
    if (entryPort && entryPort !== port) continue;
    if (name.startsWith('.') ? host.endsWith(name) || host === name.slice(1) : host === name || host.endsWith(`.${name}`)) return true;
  }
  return false;
}

/** The proxy for `url` from the environment, or null for a direct connection. */
export function proxyFor(url: URL, env: NodeJS.ProcessEnv = process.env): URL | null {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  const name = url.protocol === 'https:' ? 'HTTPS_PROXY' : 'HTTP_PROXY';
  const value = envValue(env, name) ?? envValue(env, 'ALL_PROXY');
  if (!value || bypassesProxy(url, envValue(env, 'NO_PROXY'))) return null;
  let proxy: URL;
  try {
    proxy = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`);
  } catch {
    throw new HttpError(`the proxy setting '${value}' (${name}) is not a URL`);
  }
  if (proxy.protocol !== 'http:') throw new HttpError(`the proxy '${value}' uses ${proxy.protocol}//; only http:// proxies are supported`);
  return proxy;
}

function proxyAuth(proxy: URL): Record<string, string> {
  if (!proxy.username) return {};
  const creds = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return { 'proxy-authorization': `Basic ${Buffer.from(creds).toString('base64')}` };
}

/** One-line description of a connection-level error. */
export function describeNetworkError(e: unknown, where: string): string {
  const err = e as NodeJS.ErrnoException;
  switch (err?.code) {
    case 'ECONNREFUSED':
      return `connection refused by ${where}`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `host not found: ${where}`;
    case 'ECONNRESET':
      return `connection reset by ${where}`;
    case 'ETIMEDOUT':
      return `connection to ${where} timed out`;
    default:
      return `${where}: ${err?.message ?? String(e)}`;
  }
}

/** Opens a CONNECT tunnel through `proxy` to host:port. */
function connectTunnel(proxy: URL, target: URL, o: HttpGetOptions): Promise<net.Socket> {
  const port = target.port || '443';
  const authority = `${target.hostname}:${port}`;
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: proxy.hostname,
      port: proxy.port || 80,
      method: 'CONNECT',
      path: authority,
      headers: { host: authority, ...proxyAuth(proxy) },
      agent: false,
      signal: o.signal,
    });
    req.setTimeout(o.idleTimeoutMs ?? 60_000, () => req.destroy(Object.assign(new Error('no answer'), { code: 'ETIMEDOUT' })));
    req.once('connect', (res, socket) => {
      req.setTimeout(0);
      if (res.statusCode === 200) return resolve(socket);
      socket.destroy();
      reject(
        new HttpError(
          `proxy ${proxy.host} refused the tunnel to ${authority}: HTTP ${res.statusCode} ${res.statusMessage ?? ''}`.trim(),
          res.statusCode,
        ),
      );
    });
    req.once('error', (e) => reject(networkError(e, `proxy ${proxy.host}`)));
    req.end();
  });
}

/** One request, no redirects. */
async function requestOnce(url: URL, o: HttpGetOptions): Promise<IncomingMessage> {
  const proxy = proxyFor(url, o.env ?? process.env);
  const headers = { 'user-agent': 'mic-train', ...o.headers };
  let req: http.ClientRequest;
  if (url.protocol === 'http:' && proxy) {
    req = http.request({
      host: proxy.hostname,
      port: proxy.port || 80,
      path: url.href,
      headers: { ...headers, host: url.host, ...proxyAuth(proxy) },
      agent: false,
      signal: o.signal,
    });
  } else if (url.protocol === 'https:' && proxy) {
    const socket = await connectTunnel(proxy, url, o);
    req = https.request(url, {
      headers,
      signal: o.signal,
      createConnection: () => tls.connect({ socket, host: url.hostname, servername: net.isIP(url.hostname) ? undefined : url.hostname, ca: o.ca }),
    });
  } else {
    const mod = url.protocol === 'https:' ? https : http;
    req = mod.request(url, { headers, agent: false, ca: o.ca, signal: o.signal });
  }
  const where = proxy ? `${url.host} (via proxy ${proxy.host})` : url.host;
  return new Promise((resolve, reject) => {
    req.setTimeout(o.idleTimeoutMs ?? 60_000, () => req.destroy(Object.assign(new Error('no data'), { code: 'ETIMEDOUT' })));
    req.once('response', resolve);
    req.once('error', (e) => reject(networkError(e, where)));
    req.end();
  });
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** GET `url`, following redirects; resolves once the final response's headers are in. */
export async function httpGet(url: string, o: HttpGetOptions = {}): Promise<HttpResponse> {
  let current = new URL(url);
  for (let hop = 0; ; hop++) {
    if (current.protocol !== 'http:' && current.protocol !== 'https:')
      throw new HttpError(`unsupported URL scheme ${current.protocol} (${current.href})`);
    const res = await requestOnce(current, o);
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    if (!REDIRECTS.has(status) || !location) return { status, headers: res.headers, body: res, url: current.href };
    res.resume();
    if (hop >= (o.maxRedirects ?? 10)) throw new HttpError(`too many redirects (last: ${current.href})`);
    current = new URL(location, current);
  }
}
