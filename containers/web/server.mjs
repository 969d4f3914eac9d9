#!/usr/bin/env node
// The web server: serves the built app from dist/ and proxies /api to the api on the same
// origin, as CloudFront does in production (cookies stay first-party, no CORS).
//
//   WEB_HOST (127.0.0.1)  WEB_PORT (8080)  API_URL (http://127.0.0.1:8000)  WEB_DIST (./dist)
//
// Static files: hashed assets under /assets are immutable for a year; index.html (and the
// SPA fallback for app routes) is never cached, so a deploy shows at once. Text files are
// sent gzip- or brotli-compressed when the browser accepts it (compressed once, kept in
// memory). The proxy streams both ways without buffering, so Server-Sent Events arrive as
// the api writes them. Node's standard library only.
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import http from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants as zlibConstants, gzipSync } from 'node:zlib';

const here = fileURLToPath(new URL('.', import.meta.url));
const HOST = process.env.WEB_HOST ?? '127.0.0.1';
const PORT = Number(process.env.WEB_PORT ?? 8080);
const API = new URL(process.env.API_URL ?? 'http://127.0.0.1:8000');
const DIST = resolve(process.env.WEB_DIST ?? join(here, 'dist'));
const PROXY_TIMEOUT_MS = Number(process.env.WEB_PROXY_TIMEOUT_MS ?? 120_000);

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.svg', '.txt', '.map', '.webmanifest']);
const SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'same-origin',
  'X-Frame-Options': 'DENY',
  'Content-Security-Policy':
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; " +
    "script-src 'self'; connect-src 'self'; font-src 'self' data:; frame-ancestors 'none'; " +
    "base-uri 'self'; form-action 'self'",
};
// Hop-by-hop headers (RFC 9110 §7.6.1) are not forwarded.
const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer',
  'transfer-encoding', 'upgrade', 'proxy-connection',
]);

const log = (fields) => process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...fields })}\n`);

// --- static files ---------------------------------------------------------------------------

const compressedCache = new Map(); // path + mtime + encoding → Buffer

function pickEncoding(accept = '') {
  if (/\bbr\b/.test(accept)) return 'br';
  if (/\bgzip\b/.test(accept)) return 'gzip';
  return null;
}

async function compressed(path, mtimeMs, encoding) {
  const key = `${path}:${mtimeMs}:${encoding}`;
  let body = compressedCache.get(key);
  if (!body) {
    const raw = await readFile(path);
    body =
      encoding === 'br'
        ? brotliCompressSync(raw, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 9 } })
        : gzipSync(raw, { level: 9 });
    if (compressedCache.size > 500) compressedCache.clear();
    compressedCache.set(key, body);
  }
  return body;
}

/** The file under dist/ a URL path names, or null when it names none (or escapes dist/). */
async function resolveFile(urlPath) {
  let decoded;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const candidate = normalize(join(DIST, decoded));
  if (candidate !== DIST && !candidate.startsWith(DIST + sep)) return null;
  try {
    const info = await stat(candidate);
    if (info.isFile()) return { path: candidate, info };
  } catch {
    // not there
  }
  return null;
}

async function serveStatic(req, res, url) {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' });
    res.end('method not allowed');
    return 405;
  }
  let file = await resolveFile(url.pathname);
  let fallback = false;
  if (!file) {
    // A missing asset is a 404 (a stale tab asking for an old chunk must not get HTML);
    // any other path is a route of the app: index.html.
    const looksLikeFile = url.pathname.startsWith('/assets/') || extname(url.pathname) !== '';
    if (looksLikeFile) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', ...SECURITY_HEADERS });
      res.end('not found');
      return 404;
    }
    file = await resolveFile('/index.html');
    fallback = true;
    if (!file) {
      res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('the app is not built: run `npm run build` in containers/web');
      return 503;
    }
  }
  const ext = extname(file.path);
  const immutable = !fallback && url.pathname.startsWith('/assets/');
  const etag = `W/"${file.info.size.toString(16)}-${Math.floor(file.info.mtimeMs).toString(16)}"`;
  const headers = {
    'Content-Type': TYPES[ext] ?? 'application/octet-stream',
    'Cache-Control': immutable ? 'public, max-age=31536000, immutable' : ext === '.html' ? 'no-cache' : 'public, max-age=3600',
    ETag: etag,
    'Last-Modified': file.info.mtime.toUTCString(),
    ...SECURITY_HEADERS,
  };
  if (COMPRESSIBLE.has(ext)) headers.Vary = 'Accept-Encoding';
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, headers);
    res.end();
    return 304;
  }
  const encoding = COMPRESSIBLE.has(ext) && file.info.size > 512 ? pickEncoding(req.headers['accept-encoding']) : null;
  if (encoding) {
    const body = await compressed(file.path, file.info.mtimeMs, encoding);
    res.writeHead(200, { ...headers, 'Content-Encoding': encoding, 'Content-Length': body.length });
    res.end(req.method === 'HEAD' ? undefined : body);
    return 200;
  }
  res.writeHead(200, { ...headers, 'Content-Length': file.info.size });
  if (req.method === 'HEAD') {
    res.end();
    return 200;
  }
  createReadStream(file.path).pipe(res);
  return 200;
}

// --- the /api proxy -------------------------------------------------------------------------

function forwardedHeaders(req) {
  const headers = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (!HOP_BY_HOP.has(name)) headers[name] = value;
  }
  const client = req.socket.remoteAddress ?? '';
  headers['x-forwarded-for'] = req.headers['x-forwarded-for'] ? `${req.headers['x-forwarded-for']}, ${client}` : client;
  headers['x-forwarded-proto'] = req.headers['x-forwarded-proto'] ?? 'http';
  headers['x-forwarded-host'] = req.headers.host ?? '';
  headers.host = API.host;
  return headers;
}

function proxy(req, res, started) {
  const upstream = http.request(
    {
      protocol: API.protocol,
      hostname: API.hostname,
      port: API.port || 80,
      method: req.method,
      path: req.url,
      headers: forwardedHeaders(req),
    },
    (answer) => {
      const headers = {};
      for (const [name, value] of Object.entries(answer.headers)) {
        if (!HOP_BY_HOP.has(name)) headers[name] = value;
      }
      const streaming = String(answer.headers['content-type'] ?? '').startsWith('text/event-stream');
      if (streaming) {
        headers['cache-control'] = 'no-cache';
        headers['x-accel-buffering'] = 'no';
        res.socket?.setNoDelay(true);
      }
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, headers);
      if (streaming) res.flushHeaders();
      answer.pipe(res);
      answer.on('end', () => log({ method: req.method, path: req.url, status: answer.statusCode, ms: Date.now() - started, proxied: true }));
    },
  );
  upstream.setTimeout(PROXY_TIMEOUT_MS, () => upstream.destroy(new Error('upstream timeout')));
  upstream.on('error', (error) => {
    log({ method: req.method, path: req.url, status: 502, error: error.message, proxied: true });
    if (!res.headersSent) {
      res.writeHead(502, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'api_unreachable', message: 'The api is not reachable right now; try again in a moment.' } }));
    } else {
      res.destroy(error);
    }
  });
  // The browser went away (closed tab, aborted stream): stop the api's work too.
  res.on('close', () => {
    if (!res.writableFinished) upstream.destroy();
  });
  req.pipe(upstream);
}

// --- the server -----------------------------------------------------------------------------

const server = http.createServer(async (req, res) => {
  const started = Date.now();
  let url;
  try {
    url = new URL(req.url ?? '/', 'http://localhost');
  } catch {
    res.writeHead(400).end();
    return;
  }
  if (url.pathname === '/api' || url.pathname.startsWith('/api/')) {
    proxy(req, res, started);
    return;
  }
  try {
    const status = await serveStatic(req, res, url);
    if (status >= 400) log({ method: req.method, path: url.pathname, status, ms: Date.now() - started });
  } catch (error) {
    log({ method: req.method, path: url.pathname, status: 500, error: String(error) });
    if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
    res.end('internal error');
  }
});
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;
server.requestTimeout = 0; // SSE answers may stream for minutes; the proxy has its own deadline

server.listen(PORT, HOST, () => {
  log({ msg: `web on http://${HOST}:${PORT}`, dist: DIST, api: API.origin });
});

function shutdown(signal) {
  log({ msg: `${signal}: closing` });
  server.close(() => process.exit(0));
  server.closeAllConnections?.();
  setTimeout(() => process.exit(0), 5000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
