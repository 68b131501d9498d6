// propusk bootstrap.js: hands the page's api-token to the HTTP clients.
//
// The server renders the current api-token into <meta name="api-token">.
// When axios is on the page, its requests carry "Authorization: Bearer
// <token>", as in Laravel's bootstrap.js (axios.defaults.headers.common).
// For fetch, use window.propuskFetch, which adds the same header.
//
// Credential scope: the token goes only to this page's origin and to the
// origins listed, space-separated, in <meta name="api-token-origins">
// (e.g. content="https://api.example https://files.example"). Requests to any
// other origin go without it: an interceptor takes it off axios requests
// (also those of instances made later with axios.create), and propuskFetch
// does not add it. Another Authorization header a request sets is left alone.
(function () {
  'use strict';
  var head = document.head;
  var meta = head && head.querySelector('meta[name="api-token"]');
  var token = meta ? meta.content : '';
  var bearer = 'Bearer ' + token;

  // originOf returns the origin a request to url reaches, or '' for none
  // worth trusting (unparsable, or the opaque origin of data:, file:, …).
  function originOf(url) {
    try {
      var o = new URL(url, document.baseURI).origin;
      return o === 'null' ? '' : o;
    } catch (e) {
      return '';
    }
  }

  var origins = [location.origin];
  var extra = head && head.querySelector('meta[name="api-token-origins"]');
  (extra ? extra.content.split(/\s+/) : []).forEach(function (o) {
    if (o && originOf(o)) origins.push(originOf(o));
  });

  // trusted reports whether the api-token may be sent to url: any other
  // server could replay it as the user.
  function trusted(url) {
    var o = originOf(url);
    return o !== '' && origins.indexOf(o) >= 0;
  }

  // guard makes axios instance ax drop the page's token from requests to
  // untrusted origins. It runs on the final URL (baseURL, url and params as
  // axios joins them), and wraps ax.create, whose instances inherit the
  // default header but not the interceptor.
  function guard(ax) {
    ax.interceptors.request.use(function (config) {
      var h = config.headers;
      var ok = false;
      try {
        ok = trusted(ax.getUri ? ax.getUri(config) : config.url);
      } catch (e) { /* a URL axios cannot build goes without the token */ }
      if (h && !ok) {
        if (typeof h.get === 'function') {
          if (h.get('Authorization') === bearer) h.delete('Authorization');
        } else if (h.Authorization === bearer) {
          delete h.Authorization;
        }
      }
      return config;
    });
    var create = ax.create;
    if (typeof create === 'function') {
      ax.create = function () {
        var i = create.apply(this, arguments);
        guard(i);
        return i;
      };
    }
  }

  function apply() {
    var ax = window.axios;
    if (token && ax && ax.defaults && ax.interceptors) {
      window.axios.defaults.headers.common['Authorization'] = bearer;
      guard(ax);
      return true;
    }
    return false;
  }
  // axios may load after this script: try again once the page is parsed.
  if (!apply()) {
    document.addEventListener('DOMContentLoaded', apply);
  }

  window.propuskFetch = function (input, init) {
    init = init || {};
    var i = {};
    for (var k in init) i[k] = init[k];
    var isRequest = input instanceof Request;
    // fetch(request, {headers}) drops the request's own headers: merge them.
    var headers = new Headers(isRequest ? input.headers : undefined);
    new Headers(init.headers || {}).forEach(function (v, k) { headers.set(k, v); });
    if (token && !headers.has('Authorization') && trusted(isRequest ? input.url : String(input))) {
      headers.set('Authorization', bearer);
    }
    i.headers = headers;
    return fetch(input, i);
  };
})();
