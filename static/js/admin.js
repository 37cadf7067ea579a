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
