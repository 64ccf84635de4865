/* Record lists: "tick every record on the page" (shown only where this script
   runs: without it each row is ticked on its own). */
(function () {
  "use strict";

  function wire(root) {
    root.querySelectorAll("[data-select-all]").forEach(function (box) {
      box.hidden = false;
      box.addEventListener("change", function () {
        document.querySelectorAll('input[name="ids"][form="bulk"]').forEach(function (row) {
          row.checked = box.checked;
        });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { wire(document); });
  document.addEventListener("htmx:afterSettle", function (event) { wire(event.target); });
})();
