/**
 * The HTTP server of `cxr serve`: node:http serving a fixed table of files — the page, its script, the run's
 * model (model.json and the weight shards it names), the OOD gate, the run's info and tfjs-backend-wasm's
 * .wasm binaries — and nothing else. No directory listing, no path built from the request (so no traversal:
 * a request path is only ever a key into the table; `..`, backslashes and encoded forms are refused with 400
 * before the lookup, to be explicit), GET and HEAD only, nothing uploaded, and headers that keep the page to its
 * own origin (CSP: scripts and WebAssembly from self only).
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CxrError } from '../errors';

/** One thing the server serves: bytes in memory or a file read on each request. */
export type Asset = { type: string; body: string | Uint8Array } | { type: string; file: string };

/** Content-Security-Policy of every response: self only; WebAssembly (CLAHE, the wasm backend) may compile. */
export const CSP = [
  "default-src 'none'", "script-src 'self' 'wasm-unsafe-eval'", "style-src 'self'", "img-src 'self' blob: data:",
  "connect-src 'self'", "worker-src 'self'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
].join('; ');

export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Security-Policy': CSP,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-store',
});

/**
 * Why a request path is refused before any lookup, or null: not absolute, undecodable percent-escapes, a dot
 * segment, a backslash, a NUL or a doubled slash, in the raw path or once decoded.
 */
export function unsafePath(rawPath: string): string | null {
  if (!rawPath.startsWith('/')) return 'not an absolute path';
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return 'bad percent-encoding';
  }
  for (const p of [rawPath, decoded]) {
    if (p.includes('\\')) return 'backslash';
    if (p.includes('\0')) return 'NUL byte';
    if (p.startsWith('//') || p.includes('//')) return 'empty path segment';
    if (p.split('/').some((seg) => seg === '..' || seg === '.')) return 'dot segment';
    if (/%2e|%2f|%5c/i.test(p)) return 'encoded dot or slash';
  }
  return null;
}

function send(res: http.ServerResponse, status: number, type: string, body: string | Uint8Array, head: boolean, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': String(Buffer.byteLength(body)), ...extra });
  res.end(head ? undefined : body);
}

/** The request handler over a table of assets (path → asset). */
export function assetHandler(assets: ReadonlyMap<string, Asset>): http.RequestListener {
  return (req, res) => {
    const head = req.method === 'HEAD';
    // Nothing is ever uploaded: any body is left unread and the connection closed after the answer.
    if (req.method !== 'GET' && !head) {
      send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n', false, { Allow: 'GET, HEAD', Connection: 'close' });
      return;
    }
    const raw = (req.url ?? '').split('?')[0];
    const why = unsafePath(raw);
    if (why) {
      send(res, 400, 'text/plain; charset=utf-8', `bad request path (${why})\n`, head);
      return;
    }
    const asset = assets.get(raw === '/' ? '/index.html' : raw);
    if (!asset) {
      send(res, 404, 'text/plain; charset=utf-8', 'not found\n', head);
      return;
    }
    let body: string | Uint8Array;
    try {
      body = 'file' in asset ? fs.readFileSync(asset.file) : asset.body;
    } catch {
      send(res, 404, 'text/plain; charset=utf-8', 'not found\n', head);
      return;
    }
    send(res, 200, asset.type, body, head);
  };
}

/** A listening server. */
export interface Listening {
  server: http.Server;
  url: string;
  close(): Promise<void>;
}

/**
 * Starts serving `assets` on `host:port` (port 0: any free port).
 * @throws CxrError when the address cannot be bound (e.g. the port is in use)
 * @example const s = await listen(assets, '127.0.0.1', 0); console.log(s.url)
 */
export function listen(assets: ReadonlyMap<string, Asset>, host: string, port: number): Promise<Listening> {
  const server = http.createServer(assetHandler(assets));
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new CxrError(`cannot listen on ${host}:${port} (${err.code ?? err.message})`, { cause: err })));
    server.listen(port, host, () => {
      const addr = server.address() as AddressInfo;
      const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
      resolve({
        server,
        url: `http://${shown}:${addr.port}/`,
        close: () => new Promise<void>((done) => {
          server.closeAllConnections();
          server.close(() => done());
        }),
      });
    });
  });
}
