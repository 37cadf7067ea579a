/* Progressive enhancement only: every page works without this file.

   The error summary (templates/forms/error_summary.html) carries `autofocus`;
   this moves focus there too where a browser did not, and makes its links
   put focus in the field they name (a plain #id link only scrolls). */
(function () {
  "use strict";
  function enhance() {
    var summary = document.getElementById("error-summary");
    if (!summary) {
      return;
    }
    // Only if nothing has focus yet: never take it from a field the reader
    // has already moved to (autofocus, by the standard, does the same).
    var active = document.activeElement;
    if (!active || active === document.body) {
      summary.focus();
    }
    summary.addEventListener("click", function (event) {
      var link = event.target.closest("a[href^='#']");
      if (!link) {
        return;
      }
      var target = document.getElementById(decodeURIComponent(link.hash.slice(1)));
      if (!target) {
        return;
      }
      var input = target.matches("input, select, textarea")
        ? target
        : target.querySelector("input:not([type=hidden]), select, textarea");
      if (!input) {
        return;
      }
      event.preventDefault();
      var group = input.closest("fieldset");
      var label = document.querySelector("label[for='" + input.id + "']");
      (group || label || input).scrollIntoView();
      input.focus({ preventScroll: true });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", enhance);
  } else {
    enhance();
  }
})();

/* "Tick all" / "Untick all" above a list of checkboxes (the teacher list):
   a paragraph `data-tick-all="NAME"` with buttons `data-tick="all|none"`,
   hidden until this script shows it. */
(function () {
  "use strict";
  function enhance() {
    document.querySelectorAll("[data-tick-all]").forEach(function (bar) {
      var form = bar.closest("form");
      var name = bar.getAttribute("data-tick-all");
      bar.hidden = false;
      bar.addEventListener("click", function (event) {
        var button = event.target.closest("button[data-tick]");
        if (!button) {
          return;
        }
        var on = button.getAttribute("data-tick") === "all";
        form.querySelectorAll("input[type=checkbox][name='" + name + "']").forEach(function (box) {
          box.checked = on;
        });
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", enhance);
  } else {
    enhance();
  }
})();
