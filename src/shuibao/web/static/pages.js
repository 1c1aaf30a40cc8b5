// Helpers of the list and record pages (loaded after app.js): cells, links, tables filled and paged.
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
// ---- paging (分页): no table shows more than one page of rows; the pager says "第 x/y 页 · 共 n 条"
const PAGER_WORDS = JSON.parse(document.body.dataset.pager || "{}");
const PAGE_ROWS = 50;      // rows per page of a list
const LONG_TABLE = 100;    // fill() pages a table given more rows than this, in the browser
function pagerText(page, pages, total) {
  return (PAGER_WORDS.page_of || "{page}/{pages} · {total}").replace("{page}", fmt(page, 0))
    .replace("{pages}", fmt(pages, 0)).replace("{total}", fmt(total, 0));
}
// The pager under a table (made once, reused): previous/next buttons and where the page is.
function pagerOf(selector, go) {
  const table = document.querySelector(selector);
  let nav = table.pagerNav;
  if (!nav) {
    nav = document.createElement("nav");
    nav.className = "pager";
    nav.id = table.id + "-pager";
    nav.innerHTML = `<button type="button" class="prev">${esc(PAGER_WORDS.previous || "<")}</button>
      <span class="where"></span><button type="button" class="next">${esc(PAGER_WORDS.next || ">")}</button>`;
    (table.closest(".table-wrap") || table).after(nav);
    nav.querySelector(".prev").addEventListener("click", () => nav.go(nav.offset - nav.size));
    nav.querySelector(".next").addEventListener("click", () => nav.go(nav.offset + nav.size));
    table.pagerNav = nav;
  }
  nav.go = offset => go(Math.max(0, offset));
  nav.show = (offset, size, total) => {
    Object.assign(nav, {offset, size});
    const pages = Math.max(1, Math.ceil(total / size));
    nav.hidden = total === 0;  // an empty list says so in its own words (#…-empty)
    nav.querySelector(".where").textContent = pagerText(Math.floor(offset / size) + 1, pages, total);
    nav.querySelector(".prev").disabled = offset <= 0;
    nav.querySelector(".next").disabled = offset + size >= total;
  };
  return nav;
}
function rowsInto(selector, rows, render) {
  const body = document.querySelector(selector + " tbody");
  body.innerHTML = rows.map(render).join("");
}
// Rows into a table; more than LONG_TABLE of them are shown a page at a time (the rows are all here already).
function fill(selector, rows, render) {
  const empty = document.querySelector(selector + "-empty");
  if (empty) empty.hidden = rows.length > 0;
  if (rows.length <= LONG_TABLE) {
    rowsInto(selector, rows, render);
    const nav = document.querySelector(selector).pagerNav;
    if (nav) nav.hidden = true;
    return;
  }
  const show = offset => {
    rowsInto(selector, rows.slice(offset, offset + PAGE_ROWS), render);
    pagerOf(selector, show).show(offset, PAGE_ROWS, rows.length);
  };
  show(0);
}
// GET a page of a list endpoint: its rows (a list, or the items of {items, total}) and X-Total-Count.
async function apiPage(path) {
  const r = await fetch(path, {credentials: "same-origin"});
  if (r.status === 401) { location.href = "/login"; throw new Error("not logged in"); }
  if (!r.ok) throw new Error((await r.json()).detail);
  const data = await r.json();
  const rows = Array.isArray(data) ? data : data.items;
  const total = Number(r.headers.get("X-Total-Count") ?? (data.total ?? rows.length));
  return {rows, total};
}
// A list read from the server a page at a time (limit/offset): the page number is kept in the address
// (?page=) so reload and back keep the place.  params: the filters (URLSearchParams or an object).
function pagedList(selector, url, render, {params = {}, size = PAGE_ROWS, onPage = null} = {}) {
  const here = new URLSearchParams(location.search);
  const go = offset => page(async () => {
    const q = new URLSearchParams(params);
    q.set("limit", size); q.set("offset", offset);
    const {rows, total} = await apiPage(url + (url.includes("?") ? "&" : "?") + q);
    if (!rows.length && offset > 0 && total > 0) return go(Math.floor((total - 1) / size) * size);  // past the end
    rowsInto(selector, rows, render);
    const empty = document.querySelector(selector + "-empty");
    if (empty) empty.hidden = total > 0;
    pagerOf(selector, go).show(offset, size, total);
    const number = Math.floor(offset / size) + 1;
    const now = new URLSearchParams(location.search);
    number > 1 ? now.set("page", number) : now.delete("page");
    history.replaceState(null, "", now.toString() ? "?" + now : location.pathname);
    if (onPage) onPage({offset, size, total, rows});
  });
  const first = Math.max(1, Math.floor(Number(here.get("page")) || 1));
  go((first - 1) * size);
  return go;
}
function jsonText(v) { return v == null ? "" : JSON.stringify(v); }
async function page(fn) { try { await fn(); } catch (err) { showError(err); } }
