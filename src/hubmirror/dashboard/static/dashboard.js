// Polls /dashboard/api/status every second and moves the numbers and progress bars.
// The server formats every value (its "text" fields); this script only copies them in,
// with textContent: repo names and paths are never parsed as HTML.
(function () {
  "use strict";
  var root = document.body.getAttribute("data-root") || "";
  if (!document.getElementById("transfers")) { return; }

  function set(field, text) {
    var el = document.querySelector('[data-field="' + field + '"]');
    if (el) { el.textContent = text; }
  }

  function cell(row, text, cls) {
    var td = document.createElement("td");
    td.textContent = text;
    if (cls) { td.className = cls; }
    row.appendChild(td);
    return td;
  }

  function transfers(list) {
    var body = document.getElementById("transfers");
    body.textContent = "";
    list.forEach(function (t) {
      var row = document.createElement("tr");
      cell(row, t.repo);
      cell(row, t.path);
      var bar = document.createElement("progress");
      bar.max = t.size; bar.value = t.done;
      bar.setAttribute("data-key", t.key);
      cell(row, "").appendChild(bar);
      cell(row, t.progress_text);
      cell(row, t.rate_text);
      cell(row, t.eta_text);
      body.appendChild(row);
    });
    set("transfer_count", String(list.length));
  }

  function upstreams(list) {
    var body = document.getElementById("upstream-rows");
    if (!body) { return; }
    body.textContent = "";
    list.forEach(function (u) {
      var row = document.createElement("tr");
      cell(row, u.name);
      var words = document.createElement("span");
      words.className = "health-" + u.health.state;
      words.textContent = u.health.words;
      cell(row, "").appendChild(words);
      cell(row, String(u.requests));
      cell(row, String(u.failures));
      cell(row, u.bytes_text);
      body.appendChild(row);
    });
  }

  function render(s) {
    Object.keys(s.text).forEach(function (field) { set(field, s.text[field]); });
    transfers(s.transfers);
    upstreams(s.upstreams);
  }

  function poll() {
    fetch(root + "/dashboard/api/status", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) { if (s) { render(s); } })
      .catch(function () {})
      .then(function () { setTimeout(poll, 1000); });
  }
  setTimeout(poll, 1000);
})();
