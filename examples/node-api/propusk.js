// propusk.js verifies propusk's access tokens in a Node.js service and
// honours logoffs within a second, with no request to propusk per call:
//
//   - jose's createRemoteJWKSet fetches the public keys once, caches them,
//     and fetches again (at most once a second) when a token names a kid
//     it does not know, which is how a key rotation arrives;
//   - the revocation stream (GET /api/v1/revocations, Server-Sent Events)
//     says which sessions ended; it is followed with fetch, resumed with
//     Last-Event-ID after a drop, with a growing back-off.
//
// What the verifier cannot have seen, it does not trust: a token issued
// before the stream first connected, or before a "reset" (the stream says
// events were missed), is refused as expired, so the client renews it at
// propusk, which knows every revocation. See docs/EDGE.md.
import { createRemoteJWKSet, jwtVerify } from 'jose';

export class TokenError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const invalid = (m) => new TokenError(403, 'token_invalid', m);

export function createVerifier({ url, token, issuer = 'propusk', timeout = 5000, idleTimeout = 45000, maxBackoff = 30000, log = console }) {
  const base = new URL(url);
  const jwks = createRemoteJWKSet(new URL('/.well-known/jwks.json', base), {
    timeoutDuration: timeout,
    cooldownDuration: 1000, // at most one fetch a second for unknown kids
  });
  const revoked = new Map(); // session id → when it was revoked (unix seconds)
  let horizon = 0; // tokens issued before it (unix seconds) are refused
  let connected = false;
  let seq = 0;
  let retry = 1000;
  let stopped = false;
  let abort = null;
  let markReady;
  const ready = new Promise((resolve) => { markReady = resolve; });
  const nowSec = () => Math.floor(Date.now() / 1000);

  function startOver() {
    revoked.clear();
    horizon = Math.max(horizon, nowSec());
    jwks.reload().catch((err) => log.warn('propusk keys:', err.message));
  }

  // verify returns the caller of a valid access token, or throws a TokenError.
  async function verify(tok) {
    if (!connected) throw new TokenError(503, 'store_unavailable', "not yet following propusk's revocations; try again");
    if (!tok || tok.includes('|')) throw invalid('not an access token: this service accepts propusk access tokens only');
    let payload;
    try {
      ({ payload } = await jwtVerify(tok, jwks, { issuer, algorithms: ['EdDSA'], typ: 'at+jwt' }));
    } catch (err) {
      if (err.code === 'ERR_JWT_EXPIRED') throw new TokenError(403, 'token_expired', 'the access token has expired');
      throw invalid('the token is invalid');
    }
    if (typeof payload.sid !== 'string' || !Array.isArray(payload.boards)) throw invalid("the token's claims are invalid");
    if (revoked.has(payload.sid)) throw invalid("the token's session has been revoked");
    if (!(payload.iat >= horizon)) throw new TokenError(403, 'token_expired', "the access token is older than this service's view of revocations; renew it");
    return { userId: payload._id ?? 0, level: payload.level, boards: payload.boards, sessionId: payload.sid };
  }

  function dispatch(ev) {
    let data = {};
    try { data = JSON.parse(ev.data.join('\n')); } catch { data = null; }
    if (ev.event === 'session' && data && data.ref) {
      revoked.set(data.ref, data.at);
      const old = nowSec() - 3600;
      for (const [id, at] of revoked) {
        if (at < old) { revoked.delete(id); horizon = Math.max(horizon, at + 1); }
      }
    } else if (ev.event === 'keys') {
      jwks.reload().catch((err) => log.warn('propusk keys:', err.message));
    } else if (ev.event === 'reset' || ev.event === 'session') {
      startOver();
      if (ev.event === 'reset' && data) seq = data.seq;
    }
    const id = Number.parseInt(ev.id, 10);
    if (ev.id !== undefined && id > seq) seq = id;
  }

  // connect reads one connection of the stream until it ends.
  let opened = false; // the current connection got its headers
  async function connect() {
    opened = false;
    abort = new AbortController();
    let timer = setTimeout(() => abort.abort(), timeout);
    const headers = { Accept: 'text/event-stream', Authorization: `Bearer ${token}` };
    if (seq > 0) headers['Last-Event-ID'] = String(seq);
    try {
      const res = await fetch(new URL(`/api/v1/revocations?after=${seq}`, base), { headers, signal: abort.signal });
      if (res.status !== 200) throw new Error(`stream: ${res.status} ${await res.text()}`);
      opened = true;
      if (!connected) {
        connected = true;
        startOver();
        markReady();
      }
      const idle = () => { clearTimeout(timer); timer = setTimeout(() => abort.abort(), idleTimeout); };
      idle();
      let buf = '';
      let ev = { data: [] };
      for await (const chunk of res.body.pipeThrough(new TextDecoderStream())) {
        idle();
        buf += chunk;
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).replace(/\r$/, '');
          buf = buf.slice(nl + 1);
          if (line === '') { if (ev.event || ev.data.length) dispatch(ev); ev = { data: [] }; continue; }
          if (line.startsWith(':')) continue; // ": ping"
          const i = line.indexOf(':');
          const field = i < 0 ? line : line.slice(0, i);
          const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
          if (field === 'id') ev.id = value;
          else if (field === 'event') ev.event = value;
          else if (field === 'data') ev.data.push(value);
          else if (field === 'retry' && Number(value) > 0) retry = Number(value);
        }
        if (buf.length > 65536) throw new Error('stream: line too long');
      }
    } finally {
      clearTimeout(timer);
    }
  }

  // start follows the stream until stop, reconnecting by itself.
  async function start() {
    let failures = 0;
    while (!stopped) {
      try {
        await connect();
      } catch (err) {
        if (!stopped) log.warn('propusk revocation stream:', err.message);
      }
      if (stopped) return;
      if (opened) failures = 0;
      const delay = Math.min(retry * 2 ** Math.min(failures, 16), maxBackoff) * (0.8 + Math.random() * 0.4);
      failures++;
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  function stop() {
    stopped = true;
    if (abort) abort.abort();
  }

  return { verify, start, stop, ready };
}
