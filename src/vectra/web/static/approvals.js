// Approval queue shortcuts: j/k move, a approve, r reject (focus the reason), e edit.
// A file, not inline: the Content-Security-Policy forbids inline scripts.
(function () {
  "use strict";
  var queue = document.getElementById("queue");
  if (!queue) return;
  var drafts = Array.prototype.slice.call(queue.querySelectorAll("article.draft"));
  var current = -1;

  function select(index) {
    if (!drafts.length) return;
    if (current >= 0) drafts[current].classList.remove("selected");
    current = Math.max(0, Math.min(drafts.length - 1, index));
    var draft = drafts[current];
    draft.classList.add("selected");
    draft.focus();
    draft.scrollIntoView({ block: "nearest" });
  }

  function act(name) {
    if (current < 0) select(0);
    var target = drafts[current].querySelector('[data-action="' + name + '"]');
    if (!target) return;
    if (name === "reject") target.focus();
    else target.click();
  }

  document.addEventListener("keydown", function (event) {
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select" || event.target.isContentEditable) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var handled = true;
    switch (event.key) {
      case "j": select(current + 1); break;
      case "k": select(current - 1); break;
      case "a": act("approve"); break;
      case "r": act("reject"); break;
      case "e": act("edit"); break;
      default: handled = false;
    }
    if (handled) event.preventDefault();
  });

  var all = document.getElementById("select-all");
  if (all) {
    all.addEventListener("change", function () {
      queue.querySelectorAll('input[name="email_ids"]').forEach(function (box) {
        box.checked = all.checked;
      });
    });
  }
  if (drafts.length) select(0);
})();
