// board.js: the board with JavaScript on. Pages and forms go through
// propusk.fetch, so every request carries the tab's own access token (kept
// and renewed by /assets/propusk.js) instead of the cookies a browser
// without JavaScript uses. The server renders the same HTML either way; this
// script only swaps the page's <main> for the one fetched.
(function () {
  'use strict';

  function swap(html, url, push) {
    var doc = new DOMParser().parseFromString(html, 'text/html');
    var main = doc.querySelector('main');
    if (!main) throw new Error('the answer is not a board page');
    document.querySelector('main').replaceWith(main);
    document.title = doc.title;
    if (push && url !== location.href) history.pushState(null, '', url);
  }

  function fail(err) {
    var p = document.getElementById('error') || document.createElement('p');
    p.id = 'error';
    p.className = 'error';
    p.setAttribute('role', 'alert');
    p.textContent = err.message || String(err);
    document.querySelector('main header').after(p);
  }

  // show loads url with the tab's token and shows it; a refusal is shown as
  // the server's message.
  function show(res, push) {
    var type = res.headers.get('Content-Type') || '';
    if (type.indexOf('application/json') === 0) {
      return res.json().then(function (b) { throw new Error(b.message || b.error); });
    }
    return res.text().then(function (html) { swap(html, res.url, push); });
  }

  function load(url, push) {
    return propusk.fetch(url).then(function (res) { return show(res, push); }).catch(fail);
  }

  document.addEventListener('submit', function (ev) {
    var form = ev.target;
    ev.preventDefault();
    var done;
    if (form.id === 'login-form') {
      done = propusk.login(form.elements.login.value, form.elements.password.value)
        .then(function () { return load(location.href); });
    } else if (form.id === 'logoff-form') {
      done = propusk.logoff().then(function () { return load(location.href); });
    } else {
      // The board answers a post with 303 to the thread; fetch follows it
      // with the same token, so the answer is the page to show.
      done = propusk.fetch(form.action, { method: 'POST', body: new URLSearchParams(new FormData(form)) })
        .then(function (res) {
          // An anonymous visitor refused on a closed board is told to log
          // in, as the page without JavaScript says; the text stays put.
          if (res.status === 403 && !document.querySelector('main').getAttribute('data-who')) {
            return res.json().then(function (b) {
              throw new Error('Log in to post on /' + location.pathname.split('/')[1] + '/ (' + (b.message || b.error) + '). Your text is kept below.');
            });
          }
          return show(res, true);
        });
    }
    done.catch(fail);
  });

  document.addEventListener('click', function (ev) {
    var a = ev.target.closest && ev.target.closest('a[href^="/"]');
    if (!a || ev.ctrlKey || ev.metaKey || ev.shiftKey) return;
    ev.preventDefault();
    load(a.href, true);
  });
  window.addEventListener('popstate', function () { load(location.href); });
  // Another tab logged in or off: show who this tab is now.
  window.addEventListener('propusk:change', function (ev) {
    var who = document.querySelector('main').dataset.who;
    if (!!who !== ev.detail.signedIn) load(location.href);
  });

  // The page came with the cookies' view; show the tab's own.
  load(location.href).then(function () { document.documentElement.dataset.js = 'ready'; });
})();
