// The layout rule every page keeps (docs/web.md, "Layout"): a table scrolls sideways inside its own box
// (div.table-wrap), never the page.  Loaded by base.html after app.js and before the page's own script, so the
// tables of the template are wrapped before they are filled; tables added later are wrapped as they appear.
(function () {
  function wrap(table) {
    if (table.parentElement && table.parentElement.classList.contains("table-wrap")) return;
    const box = document.createElement("div");
    box.className = "table-wrap";
    table.replaceWith(box);
    box.appendChild(table);
  }
  const main = document.querySelector("main");
  if (!main) return;
  main.querySelectorAll("table").forEach(wrap);
  new MutationObserver(changes => {
    for (const c of changes) {
      if (c.target.closest && c.target.closest(".leaflet-container")) continue;  // the map's thousands of shapes
      for (const n of c.addedNodes) {
        if (n.nodeType !== 1) continue;
        if (n.tagName === "TABLE") wrap(n); else for (const t of [...n.getElementsByTagName("table")]) wrap(t);
      }
    }
  }).observe(main, {childList: true, subtree: true});
})();
