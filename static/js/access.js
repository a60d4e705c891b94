// /acessos: the item form shows the link field or the Telegram chat field, by the item's kind.
(function () {
  "use strict";
  document.querySelectorAll("[data-access-item-form]").forEach(function (form) {
    var kind = form.querySelector("select[name=kind]");
    if (!kind) { return; }
    function sync() {
      form.querySelectorAll("[data-kind-show]").forEach(function (box) {
        var kinds = box.getAttribute("data-kind-show").split(" ");
        box.hidden = kinds.indexOf(kind.value) === -1;
      });
    }
    kind.addEventListener("change", sync);
    sync();
  });
})();
