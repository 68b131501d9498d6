// server.js is a small API behind propusk: GET /api/orders needs a
// signed-in user's access token (X-Access-Token or Authorization: Bearer).
//
//   PROPUSK_URL=http://127.0.0.1:8080 PROPUSK_STREAM_TOKEN='<id>|<secret>' node server.js
import http from 'node:http';
import { pathToFileURL } from 'node:url';
import { createVerifier, TokenError } from './propusk.js';

function credential(req) {
  const x = req.headers['x-access-token'];
  if (x) return x;
  const a = req.headers.authorization || '';
  return /^bearer /i.test(a) ? a.slice(7).trim() : '';
}

function send(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(body));
}

// createApp returns the API's request handler.
export function createApp(verifier) {
  return async (req, res) => {
    if (req.method !== 'GET' || req.url !== '/api/orders') return send(res, 404, { error: 'not_found', message: 'no such route' });
    const tok = credential(req);
    if (!tok) return send(res, 403, { error: 'token_required', message: 'no token: send X-Access-Token or Authorization: Bearer' });
    let who;
    try {
      who = await verifier.verify(tok);
    } catch (err) {
      if (err instanceof TokenError) return send(res, err.status, { error: err.code, message: err.message });
      return send(res, 500, { error: 'internal', message: 'internal error' });
    }
    if (!who.userId) return send(res, 403, { error: 'forbidden', message: 'this needs a signed-in user' });
    send(res, 200, { user: who.userId, orders: [] });
  };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const verifier = createVerifier({ url: process.env.PROPUSK_URL, token: process.env.PROPUSK_STREAM_TOKEN });
  verifier.start();
  const port = Number(process.env.PORT || 8083);
  http.createServer(createApp(verifier)).listen(port, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${port}/api/orders`));
}
