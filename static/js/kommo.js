// /kommo: "Testar conexão" (htmx GET) renders the JSON message into the result box.
(function () {
  "use strict";
  document.body.addEventListener("htmx:afterRequest", function (event) {
    var button = event.detail.elt;
    if (!button || !button.hasAttribute || !button.hasAttribute("data-kommo-connection-test")) { return; }
    var box = document.querySelector(button.getAttribute("data-result-target"));
    if (!box) { return; }
    var data = null;
    try { data = JSON.parse(event.detail.xhr.responseText); } catch (e) { data = null; }
    var alert = document.createElement("div");
    var ok = !!(data && data.success);
    alert.className = "alert small py-2 px-2 mb-0 " + (ok ? "alert-success" : "alert-danger");
    alert.setAttribute("role", ok ? "status" : "alert");
    alert.textContent = (data && (data.message || (data.error && data.error.message))) ||
      "Não foi possível testar a conexão.";
    box.replaceChildren(alert);
  });
})();
