// Helpers of the districts, projects, runs and assessment pages (loaded after app.js).
function showError(err) {
  const box = document.getElementById("page-error");
  if (box) { box.textContent = String(err.message || err); box.hidden = false; }
}
function td(v) { return `<td>${esc(v ?? "")}</td>`; }
// a cell of data as recorded (a name, a title, a note): not a UI word, so not translated (translate="no")
function tdData(v) { return `<td translate="no">${esc(v ?? "")}</td>`; }
function num(v, digits = 2) { return v == null ? "" : fmt(v, digits); }  // thousands separators (app.js fmt)
function sizeText(n) {
  if (n == null) return "";
  const units = ["B", "KiB", "MiB", "GiB"]; let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : String(n)) + " " + units[i];
}
function districtLink(code, name) {
  return code ? `<a href="/districts/${encodeURIComponent(code)}">${esc(LANG === "en" || !name ? labelOf("district", code) : name)}</a>` : "";
}
function projectLink(code) { return `<a href="/projects/${encodeURIComponent(code)}" translate="no">${esc(code)}</a>`; }
function caseLink(no) { return `<a href="/cases/${encodeURIComponent(no)}" translate="no">${esc(no)}</a>`; }
function fill(selector, rows, render) {
  const body = document.querySelector(selector + " tbody");
  body.innerHTML = "";
  for (const r of rows) body.insertAdjacentHTML("beforeend", render(r));
  const empty = document.querySelector(selector + "-empty");
  if (empty) empty.hidden = rows.length > 0;
}
function jsonText(v) { return v == null ? "" : JSON.stringify(v); }
async function page(fn) { try { await fn(); } catch (err) { showError(err); } }
