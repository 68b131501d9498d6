// Runs against a real propusk at PROPUSK_URL: `go test ./examples/node-api`
// starts one and runs this file (or start `propusk serve` yourself and set
// PROPUSK_URL).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createVerifier } from '../propusk.js';
import { createApp } from '../server.js';

const propusk = process.env.PROPUSK_URL;
const skip = propusk ? false : 'PROPUSK_URL is not set: run `go test ./examples/node-api`, which starts propusk';

async function call(url, { method = 'GET', headers = {}, body } = {}) {
  const res = await fetch(url, {
    method,
    headers: { 'X-Requested-With': 'XMLHttpRequest', ...(body ? { 'Content-Type': 'application/json' } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

test('the API honours a logoff within a second', { skip }, async (t) => {
  const login = `node-${Date.now()}`;
  const reg = await call(`${propusk}/api/v1/user.register`, { method: 'POST', body: { login, password: 'correct horse battery' } });
  assert.equal(reg.status, 201);
  const pat = await call(`${propusk}/api/v1/tokens`, {
    method: 'POST', headers: { 'X-Access-Token': reg.json.accessToken }, body: { name: 'node api', abilities: ['revocations:read'] },
  });
  assert.equal(pat.status, 201);

  const verifier = createVerifier({ url: propusk, token: pat.json.token, log: { warn() {} } });
  verifier.start();
  t.after(() => verifier.stop());
  await verifier.ready;
  const server = http.createServer(createApp(verifier));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const api = `http://127.0.0.1:${server.address().port}/api/orders`;

  const pair = await call(`${propusk}/api/v1/user.login`, { method: 'POST', body: { login, password: 'correct horse battery' } });
  assert.equal(pair.status, 200);
  const headers = { 'X-Access-Token': pair.json.accessToken };
  for (let i = 0; i < 20; i++) assert.equal((await call(api, { headers })).status, 200);

  for (const [name, tok, code] of [
    ['garbage', 'x.y.z', 'token_invalid'],
    ['personal access token', pat.json.token, 'token_invalid'],
    ['none', '', 'token_required'],
  ]) {
    const r = await call(api, { headers: tok ? { 'X-Access-Token': tok } : {} });
    assert.equal(r.status, 403, name);
    assert.equal(r.json.error, code, name);
  }

  const off = await call(`${propusk}/api/v1/user.logoff`, { method: 'POST', headers });
  assert.ok(off.status >= 200 && off.status < 300, `logoff: ${off.status}`);
  const start = Date.now();
  let r;
  while ((r = await call(api, { headers })).status === 200) {
    assert.ok(Date.now() - start < 2000, 'a logged-off session is still accepted 2 s after the logoff');
    await new Promise((res) => setTimeout(res, 10));
  }
  t.diagnostic(`logoff refused ${Date.now() - start} ms after propusk answered`);
  assert.equal(r.status, 403);
  assert.equal(r.json.error, 'token_invalid');
});
