// Polls /dashboard/api/status every second and moves the numbers and progress bars.
// Values go in with textContent only: repo names and paths are never parsed as HTML.
(function () {
  "use strict";
  var root = document.body.getAttribute("data-root") || "";
  if (!document.getElementById("transfers")) { return; }

  function bytes(n) {
    var units = ["B", "KiB", "MiB", "GiB", "TiB"], value = n, unit = 0;
    while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
    return n + " B" + (unit ? " (" + value.toFixed(1) + " " + units[unit] + ")" : "");
  }

  function ratio(r) {
    if (r.hit_ratio === null) { return "no file requests yet"; }
    return (r.hit_ratio * 100).toFixed(1) + "% (" + r.hits + " hits, " + r.misses + " misses)";
  }

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
      cell(row, t.done + " / " + t.size + " B", "num");
      body.appendChild(row);
    });
    set("transfer_count", String(list.length));
  }

  function render(s) {
    set("hit_ratio", ratio(s.requests));
    set("from_cache", bytes(s.bytes.from_cache));
    set("upstream", bytes(s.bytes.upstream));
    set("served", bytes(s.bytes.served));
    set("cache_blobs", String(s.cache.blobs));
    set("cache_bytes", bytes(s.cache.bytes));
    transfers(s.transfers);
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
