/* Both admin sites: every form answers with the server's Swedish messages,
   never the browser's own bubble ("Please fill out this field"). Django's
   change forms already say `novalidate`; its password forms do not, and
   copying those templates would copy Django's strings into our catalogue. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form").forEach(function (form) {
      form.noValidate = true;
    });
  });
})();

/* Required fields are marked with * (admin.css); the explanation, rendered
   hidden in the footer (templates/admin/_footer.html), goes above the first
   form that has one. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var note = document.getElementById("required-note");
    var label = document.querySelector("form label.required");
    if (!note || !label) {
      return;
    }
    var form = label.closest("form");
    form.insertBefore(note, form.firstChild);
    note.hidden = false;
  });
})();

/* After a refused form: focus the error summary (the site's own forms), or
   else the first field Django marked invalid (its stock forms), so a
   screen reader announces the problem and the keyboard starts there. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var active = document.activeElement;
    if (active && active !== document.body) {
      return;
    }
    var target =
      document.getElementById("error-summary") ||
      document.querySelector("[aria-invalid=true]");
    if (target) {
      target.focus();
    }
  });
})();
