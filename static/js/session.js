/* The idle warning: two minutes before the idle timeout ends the session,
   say so and offer "Fortsätt". Progressive enhancement: without JavaScript
   the box stays hidden and nothing changes. Tabs of the same browser share
   the end time through localStorage, so activity in one tab is seen in all. */
(function () {
  "use strict";
  var box = document.getElementById("session-warning");
  if (!box || !window.fetch || !window.FormData) {
    return;
  }
  var KEY = "behorighetsportalen.sessionEndsAt";
  var warnBefore = parseInt(box.getAttribute("data-warn-before"), 10) * 1000;
  var endsAt = Date.now() + parseInt(box.getAttribute("data-expires-in"), 10) * 1000;
  var form = box.querySelector("form");
  var warnings = box.querySelectorAll("[data-session-warn]");
  var ended = box.querySelector("[data-session-ended]");
  var timer = null;
  // Where the reader was when the warning took focus: given back after "Fortsätt".
  var returnTo = null;

  function publish(moment) {
    endsAt = moment;
    try {
      window.localStorage.setItem(KEY, String(moment));
    } catch (error) {
      /* Storage may be off: this tab still warns on its own. */
    }
  }

  function show(state) {
    var i;
    for (i = 0; i < warnings.length; i += 1) {
      warnings[i].hidden = state !== "warn";
    }
    ended.hidden = state !== "ended";
    var wasHidden = box.hidden;
    box.hidden = state === "none";
    if (wasHidden && state === "warn") {
      returnTo = document.activeElement;
      form.querySelector("button").focus();
    }
  }

  function tick() {
    var left = endsAt - Date.now();
    if (left <= 0) {
      show("ended");
      return;
    }
    show(left <= warnBefore ? "warn" : "none");
    timer = window.setTimeout(tick, Math.min(1000, Math.max(left - warnBefore, 250)));
  }

  function giveFocusBack() {
    var target = returnTo;
    returnTo = null;
    if (target && target !== document.body && document.contains(target)) {
      target.focus();
    } else {
      var main = document.getElementById("content-start") || document.getElementById("main");
      if (main) {
        main.focus();
      }
    }
  }

  function restart() {
    window.clearTimeout(timer);
    tick();
  }

  window.addEventListener("storage", function (event) {
    if (event.key === KEY && event.newValue) {
      var other = parseInt(event.newValue, 10);
      if (other > endsAt) {
        endsAt = other;
        restart();
      }
    }
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    window
      .fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
        headers: { Accept: "application/json" }
      })
      .then(function (response) {
        return response.json();
      })
      .then(function (data) {
        if (typeof data.expires_in === "number") {
          publish(Date.now() + data.expires_in * 1000);
        } else {
          publish(Date.now());
        }
        restart();
        giveFocusBack();
      })
      .catch(function () {
        form.submit();
      });
  });

  publish(endsAt);
  tick();
})();
