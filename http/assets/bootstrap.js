// propusk bootstrap.js: hands the page's api-token to the HTTP clients.
//
// The server renders the current api-token into <meta name="api-token">.
// When axios is on the page, every request it sends carries
// "Authorization: Bearer <token>", as in Laravel's bootstrap.js. For fetch,
// use window.propuskFetch, which adds the same header.
(function () {
  'use strict';
  var meta = document.head && document.head.querySelector('meta[name="api-token"]');
  var token = meta ? meta.content : '';
  function apply() {
    if (token && window.axios && window.axios.defaults) {
      window.axios.defaults.headers.common['Authorization'] = 'Bearer ' + token;
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
    var headers = new Headers(init.headers || {});
    if (token && !headers.has('Authorization')) {
      headers.set('Authorization', 'Bearer ' + token);
    }
    init.headers = headers;
    return fetch(input, init);
  };
})();
