// ticketd console: live updates only. A part of a page with data-live
// reloads its HTML (data-fragment) each time the server says "changed";
// the event tail appends each event the server sends (already escaped).
"use strict";
document.querySelectorAll("[data-live]").forEach(function (part) {
  var source = new EventSource(part.dataset.live);
  source.addEventListener("changed", function () {
    fetch(part.dataset.fragment, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) { if (html !== null) { part.innerHTML = html; } });
  });
});
document.querySelectorAll("[data-tail]").forEach(function (body) {
  var source = new EventSource(body.dataset.tail);
  source.addEventListener("logged", function (e) {
    body.insertAdjacentHTML("afterbegin", e.data);
    while (body.rows.length > 500) { body.deleteRow(-1); }
  });
});
