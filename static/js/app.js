// Vendas Hub front-end glue. Loaded as a file (the CSP forbids inline scripts).
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  var token = meta ? meta.getAttribute("content") : null;
  // htmx requests carry the CSRF token in the header Flask-WTF reads.
  document.body.addEventListener("htmx:configRequest", function (event) {
    if (token) { event.detail.headers["X-CSRFToken"] = token; }
  });
  // Buttons and forms with data-confirm ask before acting.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var message = form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); }
  });
})();
