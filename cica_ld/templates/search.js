/* Client-side search over every resource of the site: no server, no network.
   The index is search-index.js (the JSON of search-index.json assigned to a global, so it
   loads from file:// too); each item is [label, href from the site root, kind, other names].
   Matching ignores case and accents; every word typed must occur. Best first: the label
   equal to the query, then starting with it, then a word of it starting with it. */
(function () {
  "use strict";
  var data = window.SITE_SEARCH_INDEX || { items: [] };
  var input = document.getElementById("search-input");
  var list = document.getElementById("search-results");
  var status = document.getElementById("search-status");
  var form = document.getElementById("search-form");
  if (!input || !list || !status) return;
  var LIMIT = 100;

  function fold(s) {
    return s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  var items = data.items.map(function (it) {
    return { label: it[0], href: it[1], kind: it[2], label_f: fold(it[0]),
             all_f: fold(it[0] + " " + (it[3] || "") + " " + it[1]) };
  });

  function score(it, q, words) {
    for (var i = 0; i < words.length; i++) {
      if (it.all_f.indexOf(words[i]) < 0) return -1;
    }
    if (it.label_f === q) return 0;
    if (it.label_f.indexOf(q) === 0) return 1;
    if ((" " + it.label_f).indexOf(" " + q) >= 0) return 2;
    if (it.label_f.indexOf(q) >= 0) return 3;
    return 4;
  }

  function render(query) {
    var q = fold(query.trim());
    list.textContent = "";
    if (!q) {
      status.textContent = items.length + " resources; type to search.";
      return;
    }
    var words = q.split(/\s+/);
    var found = [];
    for (var i = 0; i < items.length; i++) {
      var s = score(items[i], q, words);
      if (s >= 0) found.push([s, items[i]]);
    }
    found.sort(function (a, b) {
      return a[0] - b[0] || a[1].label.length - b[1].label.length ||
        (a[1].label < b[1].label ? -1 : a[1].label > b[1].label ? 1 : 0);
    });
    var shown = found.slice(0, LIMIT);
    for (var j = 0; j < shown.length; j++) {
      var it = shown[j][1];
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = it.href;
      a.textContent = it.label;
      li.appendChild(a);
      if (it.kind) {
        var k = document.createElement("span");
        k.className = "note";
        k.textContent = " " + it.kind;
        li.appendChild(k);
      }
      list.appendChild(li);
    }
    status.textContent = found.length === 0 ? "No resource matches \u201c" + query + "\u201d." :
      found.length + (found.length === 1 ? " result" : " results") +
      (found.length > LIMIT ? " (the first " + LIMIT + " shown)" : "") + ".";
  }

  var params = new URLSearchParams(window.location.search);
  if (params.get("q")) input.value = params.get("q");
  input.addEventListener("input", function () {
    render(input.value);
    if (window.history && window.history.replaceState && window.location.protocol !== "file:") {
      var url = input.value ? "?q=" + encodeURIComponent(input.value) : window.location.pathname;
      window.history.replaceState(null, "", url);
    }
  });
  if (form) form.addEventListener("submit", function (e) { e.preventDefault(); render(input.value); });
  render(input.value);
})();
