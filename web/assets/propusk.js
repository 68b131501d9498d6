// propusk.js: a client for propusk's token protocol (Foxtan's accessToken and
// refreshToken), with no dependencies and no build step.
//
//   <script src="/assets/propusk.js"></script>
//   const res = await propusk.fetch('/api/v1/user.me');
//   await propusk.login('alice', 'secret password');
//   await propusk.logoff();
//
// propusk.fetch works like fetch, adding X-Access-Token and X-Requested-With
// (so the server answers 403 rather than redirecting). Tokens are obtained on
// first use and kept in localStorage, shared by every tab of the origin. On
// 403 token_expired the pair is renewed once and the request retried; a body
// must therefore be re-sendable (a string, URLSearchParams, FormData or Blob,
// not a stream).
//
// Credential scope: the access token goes only to this page's origin, the
// origin of configure's base, and the origins given to configure({origins}).
// A request anywhere else (another port or host, '//host/…', a URL or Request
// object pointing away) is sent as plain fetch would send it: no token, no
// X-Requested-With, no renewal on its answers.
//
// Renewal and lost answers: the server spends a refresh token when it
// answers, and honours it again only within --renew-grace; later, a spent
// token is theft and ends the session. So when a renewal's answer is lost
// (the connection failed, the body was cut, or a proxy answered 502, 503 or
// 504 for a node that died), it is sent again at once, at most twice, before
// any other request of the tab's origin goes out (they wait for the renewal).
//
// Tabs and renewal: a tab renews under a Web Lock, and first looks whether
// another tab has renewed already; browsers without Web Locks may race, and
// the server's grace period lets both racers keep a working pair. A pair
// another tab stores is picked up through the storage event when it is newer.
// Whenever the pair changes the window gets a "propusk:change" event, and
// "propusk:ended" when the server ended the session (the page is anonymous again).
(function (global) {
  'use strict';

  var opts = { base: '', key: 'propusk.tokens', origins: [] };
  var current = null; // {accessToken, refreshToken, expires}
  var obtaining = null; // in-flight promises, shared within the tab
  var renewing = null;

  function parse(s) {
    try {
      var p = JSON.parse(s);
      return p && p.accessToken && p.refreshToken ? p : null;
    } catch (e) {
      return null;
    }
  }

  function stored() {
    try {
      return parse(global.localStorage.getItem(opts.key));
    } catch (e) {
      return null; // storage disabled: keep the pair in memory only
    }
  }

  // newer reports whether pair a was issued after pair b: expires is the
  // server's clock, so tabs compare it without trusting their own.
  function newer(a, b) {
    return !b || a.expires > b.expires;
  }

  function changed() {
    global.dispatchEvent(new CustomEvent('propusk:change', { detail: { signedIn: signedIn() } }));
  }

  function save(p) {
    current = { accessToken: p.accessToken, refreshToken: p.refreshToken, expires: p.expires };
    try {
      global.localStorage.setItem(opts.key, JSON.stringify(current));
    } catch (e) { /* memory only */ }
    changed();
    return current;
  }

  function clear() {
    current = null;
    try {
      global.localStorage.removeItem(opts.key);
    } catch (e) { /* memory only */ }
  }

  // pair returns the freshest pair of this tab and the storage.
  function pair() {
    var s = stored();
    if (s && (!current || !newer(current, s))) current = s;
    return current;
  }

  global.addEventListener('storage', function (ev) {
    if (ev.key !== opts.key && ev.key !== null) return;
    var p = parse(ev.newValue);
    if (!p) {
      current = null; // another tab logged off
      changed();
    } else if (newer(p, current)) {
      current = p;
      changed();
    }
  });

  // claims decodes an access token's payload (without verifying it: the
  // server does that); it tells the page who it is signed in as.
  function claims(tok) {
    try {
      var b = global.atob(tok.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'));
      return JSON.parse(new TextDecoder().decode(Uint8Array.from(b, function (c) { return c.charCodeAt(0); })));
    } catch (e) {
      return {};
    }
  }

  function signedIn() {
    var p = current || pair();
    return !!(p && claims(p.accessToken)._id);
  }

  // target is where a request for url goes: a path ('/x') is on base; any
  // other string ('//host/x', and '/\host/x', which browsers read the same),
  // URL or Request is left to fetch to resolve.
  function target(url) {
    return typeof url === 'string' && /^\/(?![\/\\])/.test(url) ? opts.base + url : url;
  }

  // originOf returns the origin a fetch of url reaches, or '' when it has
  // none worth trusting (an unparsable URL, or the opaque origin of data:,
  // file: and the like).
  function originOf(url) {
    try {
      var o = new URL(url instanceof Request ? url.url : String(url), global.document.baseURI).origin;
      return o === 'null' ? '' : o;
    } catch (e) {
      return '';
    }
  }

  // trusted reports whether the pair's access token may be sent to url:
  // only to this page's origin, base's and the configured origins, because
  // any other server could replay it as the user.
  function trusted(url) {
    var o = originOf(url);
    if (!o) return false;
    if (o === global.location.origin || (opts.base && o === originOf(opts.base))) return true;
    for (var i = 0; i < opts.origins.length; i++) {
      if (o === originOf(opts.origins[i])) return true;
    }
    return false;
  }

  // send fetches url with init, adding the access token of pair p (when
  // there is one) only where trusted allows.
  function send(url, init, p) {
    url = target(url);
    var i = {};
    for (var k in init) i[k] = init[k];
    // fetch(request, {headers}) drops the request's own headers: merge them.
    var h = new Headers(url instanceof Request ? url.headers : undefined);
    new Headers(init.headers || {}).forEach(function (v, k) { h.set(k, v); });
    if (trusted(url)) {
      h.set('X-Requested-With', 'XMLHttpRequest');
      if (p) h.set('X-Access-Token', p.accessToken);
    }
    var b = i.body;
    if (b && typeof b === 'object' && Object.getPrototypeOf(b) === Object.prototype) {
      i.body = JSON.stringify(b);
      if (!h.has('Content-Type')) h.set('Content-Type', 'application/json');
    }
    i.headers = h;
    if (!i.credentials) i.credentials = 'same-origin';
    // A Request's body can be read once: send a copy, so a retry can too.
    return global.fetch(url instanceof Request ? url.clone() : url, i);
  }

  function failure(res) {
    return res.json().catch(function () { return {}; }).then(function (b) {
      var err = new Error(b.message || res.status + ' ' + res.statusText);
      err.code = b.error;
      err.status = res.status;
      throw err;
    });
  }

  function obtain() {
    if (!obtaining) {
      obtaining = send('/api/v1/token.obtain', { method: 'GET' }, null)
        .then(function (res) { return res.ok ? res.json().then(save) : failure(res); })
        .finally(function () { obtaining = null; });
    }
    return obtaining;
  }

  function ensure() {
    var p = pair();
    return p ? Promise.resolve(p) : obtain();
  }

  // locked runs f under a lock shared by the origin's tabs, where the
  // browser has Web Locks; without them the server's grace period covers
  // the race.
  function locked(f) {
    if (global.navigator && global.navigator.locks) {
      return global.navigator.locks.request(opts.key + '.renew', f);
    }
    return f();
  }

  // lost reports whether a renewal's answer never arrived: a proxy says so
  // with 502, 503 or 504 when the node it asked died or was unreachable.
  function lost(status) {
    return status === 502 || status === 503 || status === 504;
  }

  // renewal sends refresh to token.renew and resolves to {res, pair}; pair
  // is set when the server renewed. An answer lost on the way is asked for
  // again at once, up to retries times: the server may have spent the token
  // already and accepts it again only within --renew-grace, so waiting (or
  // leaving it to the next request) could turn this tab into a "thief" that
  // ends its own session.
  function renewal(refresh, retries) {
    return send('/api/v1/token.renew', { method: 'POST', body: { refreshToken: refresh } }, null)
      .then(function (res) {
        if (!res.ok) return { res: res };
        return res.json().then(function (b) { return { res: res, pair: b }; });
      })
      .then(function (r) {
        if (!r.pair && lost(r.res.status) && retries > 0) return renewal(refresh, retries - 1);
        return r;
      }, function (err) {
        if (retries > 0) return renewal(refresh, retries - 1);
        throw err;
      });
  }

  // renew replaces the pair whose access token stale was refused as expired.
  function renew(stale) {
    if (!renewing) {
      renewing = locked(function () {
        var p = pair();
        if (p && p.accessToken !== stale) return p; // another tab renewed
        if (!p) return obtain();
        return renewal(p.refreshToken, 2).then(function (r) {
          if (r.pair) return save(r.pair);
          var res = r.res;
          var q = pair();
          if (q && q.accessToken !== p.accessToken) return q;
          if (res.status !== 403) return failure(res);
          // The session is over (logged off elsewhere, revoked): carry
          // on as an anonymous client, and say so.
          clear();
          global.dispatchEvent(new CustomEvent('propusk:ended'));
          return obtain();
        });
      }).finally(function () { renewing = null; });
    }
    return renewing;
  }

  function errorCode(res) {
    if (res.status !== 403) return Promise.resolve('');
    return res.clone().json().then(function (b) { return b.error; }, function () { return ''; });
  }

  // fetch sends a request with the pair's access token; on 403
  // token_expired it renews once and sends it again.
  function pfetch(url, init) {
    init = init || {};
    if (!trusted(target(url))) return send(url, init, null);
    return ensure().then(function (p) {
      return send(url, init, p).then(function (res) {
        return errorCode(res).then(function (code) {
          if (code !== 'token_expired') return res;
          return renew(p.accessToken).then(function (q) { return send(url, init, q); });
        });
      });
    });
  }

  function signIn(path, body, status) {
    return ensure().then(function (p) {
      return send(path, { method: 'POST', body: body }, p);
    }).then(function (res) {
      if (res.status !== status) return failure(res);
      return res.json().then(function (b) {
        save(b);
        return b;
      });
    });
  }

  global.propusk = {
    // configure sets base (the propusk server's origin; default this page's),
    // key (the localStorage key; default "propusk.tokens") and origins (more
    // origins, like 'https://api.example', that get the access token; default
    // none beyond this page's and base's).
    configure: function (o) {
      for (var k in o) opts[k] = o[k];
      if (typeof opts.origins === 'string') opts.origins = opts.origins.split(/\s+/);
      current = null;
    },
    fetch: pfetch,
    // login signs in; resolves to the server's answer (with apiToken), or
    // rejects with an Error carrying code and status (401 invalid_credentials).
    login: function (login, password) {
      return signIn('/api/v1/user.login', { login: login, password: password }, 200);
    },
    register: function (login, password) {
      return signIn('/api/v1/user.register', { login: login, password: password }, 201);
    },
    // logoff ends the session on the server, for every tab, and forgets the pair.
    logoff: function () {
      var p = pair();
      var done = p
        ? send('/api/v1/user.logoff', { method: 'POST', body: { refreshToken: p.refreshToken } }, p)
        : Promise.resolve();
      return done.then(function () {
        clear();
        changed();
      });
    },
    // me resolves to user.me: {_id?, login?, level, boards, via}.
    me: function () {
      return pfetch('/api/v1/user.me').then(function (res) { return res.ok ? res.json() : failure(res); });
    },
    obtain: obtain,
    signedIn: signedIn,
    // tokens returns the current pair, or null before the first request.
    tokens: pair
  };
})(window);
