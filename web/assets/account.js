// account.js: what JavaScript adds to the account page, which works
// without it. A form with data-confirm asks in a dialog and, on yes, sends
// confirm=yes (without JavaScript the server answers a confirmation page
// instead); the copy button copies a new token's secret.
(function () {
  'use strict';

  // dialog returns the page's confirmation dialog, made on first use (a
  // browser without JavaScript must not show it).
  function dialog() {
    var d = document.getElementById('confirm-dialog');
    if (d) return d;
    d = document.createElement('dialog');
    d.id = 'confirm-dialog';
    d.setAttribute('aria-labelledby', 'confirm-dialog-text');
    d.innerHTML = '<form method="dialog"><p id="confirm-dialog-text"></p>' +
      '<p class="actions"><button value="yes" class="danger" id="confirm-yes">Yes</button> ' +
      '<button value="no" id="confirm-no">Cancel</button></p></form>';
    document.body.appendChild(d);
    return d;
  }

  function ask(form) {
    if (typeof HTMLDialogElement !== 'function') return false;
    var d = dialog();
    document.getElementById('confirm-dialog-text').textContent = form.getAttribute('data-confirm');
    var btn = form.querySelector('button[type=submit]');
    var yes = document.getElementById('confirm-yes');
    yes.textContent = (btn && (btn.getAttribute('aria-label') || btn.textContent)) || 'Yes';
    d.returnValue = '';
    d.onclose = function () {
      if (d.returnValue !== 'yes') return;
      var c = document.createElement('input');
      c.type = 'hidden';
      c.name = 'confirm';
      c.value = 'yes';
      form.appendChild(c);
      form.submit();
    };
    d.showModal();
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
