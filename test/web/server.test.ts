import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { listen, unsafePath, type Asset, type Listening } from '../../lib/web/server';

let server: Listening;
let root: string;

before(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-serve-'));
  fs.writeFileSync(path.join(root, 'model.json'), '{"ok":true}');
  fs.writeFileSync(path.join(root, 'secret.txt'), 'not to be served');
  const assets = new Map<string, Asset>([
    ['/index.html', { type: 'text/html; charset=utf-8', body: '<!doctype html><title>t</title>' }],
    ['/model/model.json', { type: 'application/json', file: path.join(root, 'model.json') }],
  ]);
  server = await listen(assets, '127.0.0.1', 0);
});
after(async () => {
  await server.close();
  fs.rmSync(root, { recursive: true, force: true });
});

/** One raw HTTP/1.1 request (the path sent byte for byte, as an attacker would), status and headers back. */
function raw(method: string, target: string, body = ''): Promise<{ status: number; headers: string; body: string }> {
  const { port } = server.server.address() as net.AddressInfo;
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.write(`${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    });
    let data = '';
    s.on('data', (d) => (data += d.toString('latin1')));
    s.on('end', () => {
      const [head, ...rest] = data.split('\r\n\r\n');
      resolve({ status: Number(head.split(' ')[1]), headers: head.toLowerCase(), body: rest.join('\r\n\r\n') });
    });
    s.on('error', reject);
  });
}

test('serves its table with the right content types and security headers', async () => {
  const page = await raw('GET', '/');
  assert.equal(page.status, 200);
  assert.match(page.headers, /content-type: text\/html; charset=utf-8/);
  assert.match(page.headers, /content-security-policy: default-src 'none'; script-src 'self' 'wasm-unsafe-eval'/);
  assert.match(page.headers, /x-content-type-options: nosniff/);
  assert.match(page.headers, /referrer-policy: no-referrer/);
  const model = await raw('GET', '/model/model.json');
  assert.equal(model.status, 200);
  assert.match(model.headers, /content-type: application\/json/);
  assert.equal(model.body, '{"ok":true}');
  const head = await raw('HEAD', '/model/model.json');
  assert.equal(head.status, 200);
  assert.equal(head.body, '');
});

test('no directory listing, nothing outside the table', async () => {
  for (const p of ['/model/', '/model', '/secret.txt', '/model/secret.txt', '/index.htm', '/package.json']) {
    const r = await raw('GET', p);
    assert.equal(r.status, 404, p);
    assert.doesNotMatch(r.body, /not to be served|model\.json/, p);
    assert.match(r.headers, /content-security-policy/);
  }
});

test('path traversal refused in every spelling', async () => {
  const attempts = [
    '/../secret.txt', '/model/../../secret.txt', '/model/%2e%2e/secret.txt', '/%2e%2e/%2e%2e/etc/passwd', '/model/%2E%2E%2Fsecret.txt',
    '/model/..%2fsecret.txt', '/model/..%5csecret.txt', '/model\\..\\secret.txt', '/..\\secret.txt', '//etc/passwd',
    '/%252e%252e/secret.txt', '/model/%00.json', '/model/%zz', `${root}/secret.txt`, 'secret.txt', '/./index.html',
  ];
  for (const p of attempts) {
    const r = await raw('GET', p);
    assert.ok(r.status === 400 || r.status === 404, `${p}: ${r.status}`);
    assert.doesNotMatch(r.body, /not to be served/, p);
  }
  assert.equal(unsafePath('/model/model.json'), null);
  assert.match(unsafePath('/a/%2e%2e/b') ?? '', /dot/);
  assert.equal(unsafePath('/a/../b'), 'dot segment');
});

test('POST, PUT and other methods are refused: nothing is uploaded', async () => {
  for (const m of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
    const r = await raw(m, '/index.html', 'x'.repeat(100));
    assert.equal(r.status, 405, m);
    assert.match(r.headers, /allow: get, head/);
  }
});

test('listens on loopback only by default address', () => {
  const addr = server.server.address() as net.AddressInfo;
  assert.equal(addr.address, '127.0.0.1');
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
});
