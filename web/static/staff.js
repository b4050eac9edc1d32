// The staff workspace's keyboard shortcuts and bulk selection. Loaded as a file: the CSP
// allows no inline script. Shortcuts are ignored while typing in a field.
(function () {
  "use strict";

  function rows() { return Array.prototype.slice.call(document.querySelectorAll("tr.match-row")); }

  function current() { return document.querySelector("tr.match-row.current"); }

  function select(row) {
    var old = current();
    if (old) { old.classList.remove("current"); old.removeAttribute("aria-current"); }
    if (!row) { return; }
    row.classList.add("current");
    row.setAttribute("aria-current", "true");
    row.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
  }

  function move(step) {
    var all = rows();
    if (!all.length) { return; }
    var index = all.indexOf(current());
    var next = index < 0 ? 0 : Math.min(Math.max(index + step, 0), all.length - 1);
    select(all[next]);
  }

  function click(row, selector) {
    var target = row && row.querySelector(selector);
    if (target) { target.click(); return true; }
    return false;
  }

  function openReject(row) {
    var box = row && row.querySelector(".js-reject-box");
    if (!box) { return; }
    box.open = true;
    var reason = box.querySelector(".js-reason");
    if (reason) { reason.focus(); }
  }

  function updateCount() {
    var counter = document.querySelector(".js-selected-count");
    if (!counter) { return; }
    var n = document.querySelectorAll("input.js-select:checked").length;
    counter.textContent = n ? String(n) + " ✓" : "";
  }

  function typing(target) {
    var tag = (target && target.tagName) || "";
    return tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA" || (target && target.isContentEditable);
  }

  document.addEventListener("keydown", function (event) {
    var field = event.target;
    if (event.key === "Enter" && field.matches && field.matches("select.js-reason") && field.value) {
      event.preventDefault();
      field.form.requestSubmit();
      return;
    }
    if (event.key === "Escape" && field.closest && field.closest(".js-reject-box")) {
      var open = field.closest(".js-reject-box");
      open.open = false;
      select(open.closest("tr.match-row"));
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) { return; }
    var row = current();
    switch (event.key) {
      case "j": case "ArrowDown": move(1); break;
      case "k": case "ArrowUp": move(-1); break;
      case "a": if (!click(row, "button.js-accept")) { return; } break;
      case "s": if (!click(row, "button.js-shortlist")) { return; } break;
      case "r": openReject(row); break;
      case "x":
        var box = row && row.querySelector("input.js-select");
        if (!box) { return; }
        box.checked = !box.checked;
        updateCount();
        break;
      case "u":
        var undo = document.querySelector(".undo-banner button[type=submit]");
        if (!undo) { return; }
        undo.click();
        break;
      case "n":
        var next = document.querySelector("a.js-next-page");
        if (!next) { return; }
        next.click();
        break;
      default: return;
    }
    event.preventDefault();
  });

  document.addEventListener("click", function (event) {
    var row = event.target.closest && event.target.closest("tr.match-row");
    if (row && row !== current()) { select(row); }
  });

  document.addEventListener("change", function (event) {
    if (event.target.matches("input.js-select-all")) {
      var on = event.target.checked;
      document.querySelectorAll("input.js-select").forEach(function (box) { box.checked = on; });
    }
    if (event.target.matches("input.js-select, input.js-select-all")) { updateCount(); }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var all = rows();
    if (all.length && document.querySelector("table.queue")) {
      all[0].classList.add("current");
      all[0].setAttribute("aria-current", "true");
    }
  });
})();
