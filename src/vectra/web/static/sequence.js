// Sequence editor: let htmx show the preview's 422 answer (a template error naming its field),
// which htmx would otherwise drop. A file, not inline: the CSP forbids inline scripts.
(function () {
  "use strict";
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (event.detail.xhr.status === 422 && target && target.id === "preview") {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
