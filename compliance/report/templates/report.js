(function () {
  "use strict";
  // Sorting and filtering of the findings list. Allowed by its hash in the page's
  // Content-Security-Policy; reads only data-* attributes and never builds markup.
  var table = document.getElementById("findings-table");
  var controls = document.getElementById("controls");
  if (!table || !controls) { return; }
  controls.hidden = false;
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var deck = document.getElementById("cards");
  var cards = {};
  Array.prototype.forEach.call(document.querySelectorAll("article.card"), function (card) {
    cards[card.getAttribute("data-id")] = card;
  });
  var selects = Array.prototype.slice.call(controls.querySelectorAll("select[data-filter]"));
  var search = document.getElementById("filter-text");
  var shown = document.getElementById("shown-count");

  function apply() {
    var text = search.value.trim().toLowerCase();
    var count = 0;
    rows.forEach(function (row) {
      var ok = selects.every(function (select) {
        return !select.value || row.getAttribute("data-" + select.getAttribute("data-filter")) === select.value;
      });
      if (ok && text) { ok = row.getAttribute("data-text").indexOf(text) !== -1; }
      row.hidden = !ok;
      var card = cards[row.getAttribute("data-id")];
      if (card) { card.hidden = !ok; }
      if (ok) { count += 1; }
    });
    shown.textContent = count + " of " + rows.length + " findings shown";
  }

  function sortBy(th) {
    var key = th.getAttribute("data-sort");
    var numeric = th.getAttribute("data-numeric") === "1";
    var descending = th.getAttribute("aria-sort") !== "descending";
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (cell) {
      cell.removeAttribute("aria-sort");
    });
    th.setAttribute("aria-sort", descending ? "descending" : "ascending");
    rows.sort(function (a, b) {
      var x = a.getAttribute("data-" + key) || "";
      var y = b.getAttribute("data-" + key) || "";
      var c = numeric ? (parseFloat(x) || 0) - (parseFloat(y) || 0) : x.localeCompare(y);
      return descending ? -c : c;
    });
    rows.forEach(function (row) {
      body.appendChild(row);
      var card = cards[row.getAttribute("data-id")];
      if (card && deck) { deck.appendChild(card); }
    });
  }

  selects.forEach(function (select) { select.addEventListener("change", apply); });
  search.addEventListener("input", apply);
  document.getElementById("filter-reset").addEventListener("click", function () {
    selects.forEach(function (select) { select.value = ""; });
    search.value = "";
    apply();
  });
  Array.prototype.forEach.call(table.tHead.querySelectorAll("th[data-sort]"), function (th) {
    var button = th.querySelector("button");
    (button || th).addEventListener("click", function () { sortBy(th); });
  });
  document.documentElement.setAttribute("data-ready", "1");
  apply();
}());
