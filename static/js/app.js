// Vendas Hub front-end glue. Loaded as a file (the CSP forbids inline scripts).
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  var token = meta ? meta.getAttribute("content") : null;
  // htmx requests carry the CSRF token in the header Flask-WTF reads.
  document.body.addEventListener("htmx:configRequest", function (event) {
    if (token) { event.detail.headers["X-CSRFToken"] = token; }
  });
  // A page answered to a POST that must not be re-sent on reload (e.g. a one-time token):
  // the address bar goes back to the page's own GET address.
  var replaceWith = document.body.getAttribute("data-replace-url");
  if (replaceWith && window.history && window.history.replaceState) {
    window.history.replaceState(null, "", replaceWith);
  }
  // A read-only operator (body[data-read-only], app/security.py): every control that would
  // change something is disabled here, once for every page (the server refuses it anyway).
  // Forms marked data-read-only-ok (logout, own password and profile) keep working.
  var READ_ONLY_TITLE = "Seu acesso é somente leitura";
  var disableWrites = function (root) {
    if (!document.body.hasAttribute("data-read-only")) { return; }
    root.querySelectorAll("form").forEach(function (form) {
      if ((form.getAttribute("method") || "get").toLowerCase() !== "post") { return; }
      if (form.hasAttribute("data-read-only-ok")) { return; }
      form.querySelectorAll("button, input, select, textarea").forEach(function (el) {
        if (el.type === "hidden") { return; }
        el.disabled = true;
        el.title = READ_ONLY_TITLE;
      });
      form.setAttribute("data-read-only-disabled", "");
    });
    root.querySelectorAll("[hx-post], [hx-put], [hx-patch], [hx-delete]").forEach(function (el) {
      el.disabled = true;
      el.classList.add("disabled");
      el.setAttribute("aria-disabled", "true");
      el.title = READ_ONLY_TITLE;
    });
  };
  disableWrites(document);
  document.body.addEventListener("htmx:afterSwap", function (event) {
    disableWrites(event.detail.target || document);
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.hasAttribute && form.hasAttribute("data-read-only-disabled")) { event.preventDefault(); }
  });
  // Buttons and forms with data-confirm ask before acting.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var message = form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); }
  });
  // "Copiar" buttons: data-copy-target names the input whose value goes to the clipboard.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy-target]");
    if (!button) { return; }
    var input = document.querySelector(button.getAttribute("data-copy-target"));
    if (!input) { return; }
    var done = function () {
      button.textContent = button.getAttribute("data-copied-text") || "Copiado!";
    };
    input.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(done, function () {
        if (document.execCommand("copy")) { done(); }
      });
    } else if (document.execCommand("copy")) {
      done();
    }
  });
  // "Testar conexão" buttons of every integration page: the request answers JSON
  // {"success", "message" | "error": {"message"}, "lines"?, "usage"?}; the message (a list when
  // "lines" has several) goes into the box named by data-result-target, and a request counter
  // (data-usage-target) is refreshed when sent.
  document.body.addEventListener("htmx:afterRequest", function (event) {
    var button = event.detail.elt;
    if (!button || !button.hasAttribute || !button.hasAttribute("data-connection-test")) { return; }
    var box = document.querySelector(button.getAttribute("data-result-target"));
    if (!box) { return; }
    var data = null;
    try { data = JSON.parse(event.detail.xhr.responseText); } catch (e) { data = null; }
    var alert = document.createElement("div");
    var ok = !!(data && data.success);
    alert.className = "alert small py-2 px-2 mb-0 " + (ok ? "alert-success" : "alert-danger");
    alert.setAttribute("role", ok ? "status" : "alert");
    if (data && Array.isArray(data.lines) && data.lines.length > 1) {
      // several things checked (a bot, then each group): one line each
      var list = document.createElement("ul");
      list.className = "mb-0 ps-3";
      data.lines.forEach(function (line) {
        var item = document.createElement("li");
        item.textContent = line;
        list.appendChild(item);
      });
      alert.appendChild(list);
    } else {
      alert.textContent = (data && (data.message || (data.error && data.error.message))) ||
        "Não foi possível testar a conexão.";
    }
    box.replaceChildren(alert);
    // the status card (templates/integrations/page.html) reloads itself on this event
    document.body.dispatchEvent(new CustomEvent("vh-connection-tested"));
    var usage = data && data.usage;
    var counterSelector = button.getAttribute("data-usage-target");
    var counter = counterSelector && document.querySelector(counterSelector);
    if (usage && counter) {
      counter.textContent = Number(usage.used).toLocaleString("pt-BR") + " de " +
        Number(usage.limit).toLocaleString("pt-BR");
    }
  });
  // "Sincronizar" buttons (templates/sync/_macros.html): the POST answers
  // 202 {"success": true, "run_id": N}; load that run's progress partial into the slot.
  document.body.addEventListener("htmx:afterRequest", function (event) {
    var button = event.detail.elt;
    if (!button || !button.hasAttribute || !button.hasAttribute("data-sync-button")) { return; }
    var slot = document.querySelector(button.getAttribute("data-sync-target"));
    if (!slot) { return; }
    var data = null;
    try { data = JSON.parse(event.detail.xhr.responseText); } catch (e) { data = null; }
    if (data && data.success && data.run_id) {
      var url = button.getAttribute("data-progress-url")
        .replace(/\/0\/progresso$/, "/" + encodeURIComponent(data.run_id) + "/progresso");
      window.htmx.ajax("GET", url, { target: slot, swap: "innerHTML" });
      return;
    }
    var alert = document.createElement("div");
    alert.className = "alert alert-danger small py-1 px-2 mb-0";
    alert.setAttribute("role", "alert");
    alert.textContent = (data && data.error && data.error.message) ||
      "Não foi possível iniciar a sincronização.";
    slot.replaceChildren(alert);
  });
})();
