// account.js: what JavaScript adds to the account page, which works
// without it. A form with data-confirm asks in a dialog and, on yes, sends
// confirm=yes (without JavaScript the server answers a confirmation page
// instead); the copy button copies a new token's secret.
(function () {
  'use strict';

  function ask(form) {
    var dialog = document.getElementById('confirm-dialog');
    if (!dialog || typeof dialog.showModal !== 'function') return false;
    document.getElementById('confirm-dialog-text').textContent = form.getAttribute('data-confirm');
    var btn = form.querySelector('button[type=submit]');
    var yes = document.getElementById('confirm-yes');
    yes.textContent = (btn && (btn.getAttribute('aria-label') || btn.textContent)) || 'Yes';
    dialog.returnValue = '';
    dialog.onclose = function () {
      if (dialog.returnValue !== 'yes') return;
      var c = document.createElement('input');
      c.type = 'hidden';
      c.name = 'confirm';
      c.value = 'yes';
      form.appendChild(c);
      form.submit();
    };
    dialog.showModal();
    return true;
  }

  document.addEventListener('submit', function (ev) {
    var form = ev.target;
    if (!form.hasAttribute || !form.hasAttribute('data-confirm')) return;
    if (ask(form)) ev.preventDefault();
  });

  document.addEventListener('DOMContentLoaded', function () {
    var copy = document.getElementById('copy-token');
    if (!copy || !navigator.clipboard) return;
    copy.hidden = false;
    copy.addEventListener('click', function () {
      var text = document.getElementById(copy.getAttribute('data-copy')).textContent;
      var status = document.getElementById('copy-status');
      navigator.clipboard.writeText(text).then(function () {
        status.textContent = 'Copied.';
      }, function () {
        status.textContent = 'Could not copy: select the token and copy it by hand.';
      });
    });
  });
})();
