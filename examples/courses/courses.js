// The page's own script: it calls the platform's protected API with axios.
// propusk's bootstrap.js has already put the api-token from the meta tag
// into axios' Authorization header.
(function () {
  'use strict';
  var out = document.getElementById('api-status');
  if (!out || !document.querySelector('meta[name="api-token"]')) {
    return;
  }
  // Mark calls as scripted, as Laravel's bootstrap.js does: a refused call
  // then gets a 403 to read instead of a redirect.
  axios.defaults.headers.common['X-Requested-With'] = 'XMLHttpRequest';
  axios.get('/api/my-courses').then(function (r) {
    out.textContent = 'API (' + r.data.via + '): ' + r.data.login + ' owns ' +
      r.data.courses.length + ' course(s)' + (r.data.tariff ? ', tariff paid' : '');
    out.className = 'ok';
  }).catch(function (e) {
    out.textContent = 'API refused: ' + (e.response ? e.response.status + ' ' + e.response.data.error : e.message);
    out.className = 'error';
  });
})();
