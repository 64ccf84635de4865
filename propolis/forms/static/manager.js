// The object manager's small enhancements. The pages work as plain forms; this adds
// drag and drop (SortableJS), up/down buttons that move rows in place, option and
// column rows added and removed in place, and the type's inputs shown for the type.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // Rows of a sortable list keep their position inputs (and, in the layout editor,
  // their section choice) in step with where they are on the page.
  function renumber() {
    document.querySelectorAll("[data-sortable]").forEach(function (list) {
      var items = list.querySelectorAll(":scope > .item");
      items.forEach(function (item, index) {
        var position = item.querySelector("[data-position-input]");
        if (position) { position.value = index + 1; }
        var section = item.querySelector("[data-section-input]");
        if (section && list.dataset.section !== undefined) { section.value = list.dataset.section; }
      });
    });
  }

  function sortables() {
    if (typeof Sortable === "undefined") { return; }
    document.querySelectorAll("[data-sortable]").forEach(function (list) {
      Sortable.create(list, {
        group: list.dataset.sortable, handle: ".handle", animation: 150,
        draggable: ".item", forceFallback: true, onEnd: renumber
      });
    });
  }

  // A field moved by keyboard: the button moves its row and keeps the focus.
  function moveRow(button) {
    var row = button.closest(".item");
    if (!row) { return; }
    if (button.dataset.move === "up" && row.previousElementSibling) {
      row.parentNode.insertBefore(row, row.previousElementSibling);
    } else if (button.dataset.move === "down" && row.nextElementSibling) {
      row.parentNode.insertBefore(row.nextElementSibling, row);
    }
    button.focus();
    renumber();
  }

  // Sections chosen by number (keyboard): the item goes to that section's list.
  function sectionChanged(select) {
    var target = document.querySelector('[data-sortable="layout"][data-section="' + select.value + '"]');
    var item = select.closest(".item");
    if (target && item && item.parentNode !== target) {
      target.appendChild(item);
      select.focus();
      renumber();
    }
  }

  // Row inputs are named "Option 3 Value" and the like: keep the numbers in order.
  function renumberLabels(body) {
    body.querySelectorAll(".item").forEach(function (row, index) {
      row.querySelectorAll("[aria-label]").forEach(function (element) {
        element.setAttribute("aria-label",
          element.getAttribute("aria-label").replace(/\d+/, String(index + 1)));
      });
    });
  }

  function addRow(button) {
    var body = document.getElementById(button.dataset.addRow);
    var last = body && body.querySelector(".item:last-child");
    if (!last) { return; }
    var copy = last.cloneNode(true);
    copy.querySelectorAll("input").forEach(function (input) { input.value = ""; });
    copy.querySelectorAll("select").forEach(function (select) { select.selectedIndex = 0; });
    body.appendChild(copy);
    renumberLabels(body);
    var first = copy.querySelector("input, select");
    if (first) { first.focus(); }
  }

  function removeRow(button) {
    var row = button.closest(".item");
    var body = row && row.parentNode;
    if (!row) { return; }
    if (body.querySelectorAll(".item").length > 1) {
      var next = row.nextElementSibling || row.previousElementSibling;
      row.remove();
      renumberLabels(body);
      var focus = next && next.querySelector("input");
      if (focus) { focus.focus(); }
    } else {
      row.querySelectorAll("input").forEach(function (input) { input.value = ""; });
    }
  }

  function showTypeInputs(select) {
    document.querySelectorAll("[data-types]").forEach(function (part) {
      part.hidden = part.dataset.types.split(" ").indexOf(select.value) < 0;
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button");
    if (!button) { return; }
    if (button.dataset.move) { event.preventDefault(); moveRow(button); }
    else if (button.dataset.addRow) { event.preventDefault(); addRow(button); }
    else if (button.hasAttribute("data-remove-row")) { event.preventDefault(); removeRow(button); }
  });
  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-type-select]")) { showTypeInputs(event.target); }
    if (event.target.matches("[data-section-input]")) { sectionChanged(event.target); }
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", sortables);
  } else {
    sortables();
  }
})();
