// Shared helpers of the Shuibao UI: API calls with the session cookie, formatting, escaping.
// Every write from these pages carries X-Shuibao-Request: the server refuses a cookie-authenticated write without
// it (a forged cross-origin form cannot add a header; see shuibao/web/security.py).
(function () {
  const send = window.fetch.bind(window);
  window.fetch = (input, init = {}) => {
    const method = String(init.method || (input instanceof Request ? input.method : "GET")).toUpperCase();
    if (method === "GET" || method === "HEAD") return send(input, init);
    const headers = new Headers(init.headers || (input instanceof Request ? input.headers : undefined));
    headers.set("X-Shuibao-Request", "1");
    return send(input, {...init, headers});
  };
})();
async function api(path) {
  const r = await fetch(path, {credentials: "same-origin"});
  if (r.status === 401) { location.href = "/login"; throw new Error("not logged in"); }
  if (!r.ok) throw new Error((await r.json()).detail);
  return r.json();
}
// Every write from the pages goes through here (one place to add request headers): a FormData body is sent
// as multipart, anything else as JSON.  Returns {ok, status, data}; data is the parsed JSON answer.
async function apiPost(path, body) {
  const init = {method: "POST", credentials: "same-origin"};
  if (body instanceof FormData) init.body = body;
  else { init.headers = {"content-type": "application/json"}; init.body = JSON.stringify(body); }
  const r = await fetch(path, init);
  if (r.status === 401) { location.href = "/login"; throw new Error("not logged in"); }
  let data = null;
  try { data = await r.json(); } catch (_) { data = {detail: r.statusText}; }
  return {ok: r.ok, status: r.status, data};
}
function errorText(data) {  // FastAPI's 422 detail is a list of {loc, msg}; ours is a sentence
  const d = data && data.detail;
  return Array.isArray(d) ? d.map(x => (x.loc || []).slice(1).join(".") + ": " + x.msg).join("; ") : String(d ?? "");
}
function localDay() {  // today in the browser's time zone, as YYYY-MM-DD (toISOString would give the UTC day)
  const d = new Date(); d.setMinutes(d.getMinutes() - d.getTimezoneOffset()); return d.toISOString().slice(0, 10);
}
// ---- labels and formats for people (the table is shuibao/vocabulary, served as /vocabulary.js → window.VOCAB)
const VOCAB = window.VOCAB || {lang: "zh", labels: {}, units: {}, values: {}};
const LANG = VOCAB.lang;
function labelOf(group, code) {  // the label of a stored code; a code without one shows as stored (the tests catch it)
  if (code == null || code === "") return "";
  const g = VOCAB.labels[group];
  return g && g[code] != null ? g[code] : String(code);
}
// groups searched for a code whose group the record does not say (the keys of a count, a list's entries)
const ANY_GROUPS = ["compliance", "qc_flag", "warning_level", "case_state", "case_step", "case_outcome", "credit_list",
  "credit_rule", "traffic_light", "project_status", "measure_kind", "measure", "treatment_status", "station_kind",
  "role", "district", "region", "unit_level", "erosion_grade", "assessment_grade", "fee_category", "fee_basis",
  "case_source", "row_status", "assessment_indicator", "audit_action", "object_kind", "field"];
function labelAny(code) {
  for (const g of ANY_GROUPS) { const t = (VOCAB.labels[g] || {})[code]; if (t != null) return t; }
  return String(code ?? "");
}
const NUMBERS = new Intl.NumberFormat(LANG === "en" ? "en-US" : "zh-CN");
function fmt(v, digits = 2) {  // thousands separators and a fixed number of decimals; "—" for no value
  if (v == null || v === "" || Number.isNaN(Number(v))) return "—";
  return Number(v).toLocaleString(LANG === "en" ? "en-US" : "zh-CN", {minimumFractionDigits: digits, maximumFractionDigits: digits});
}
function day(v) { return v ? String(v).slice(0, 10) : ""; }  // a date, never a timestamp
function moment(v) { return v ? String(v).replace("T", " ").slice(0, 16) : ""; }  // YYYY-MM-DD HH:MM
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;
const CODE_LIKE = /^[a-z][a-z0-9_.]*$/;
// One value of a record for people: codes as labels, records as links, numbers with separators, lists joined.
function valueHtml(key, v) {
  if (v == null || v === "") return "—";
  const group = VOCAB.values[key];
  if (Array.isArray(v)) return v.map(x => Array.isArray(x) ? pairHtml(x) : valueHtml(key, x)).join(LANG === "en" ? ", " : "、");
  if (typeof v === "object") return recordHtml(v, labelAny);
  if (typeof v === "boolean") return esc(labelOf("boolean", String(v)));
  if (key === "district" || key === "district_code" || key === "district_codes")
    return String(v).split(",").map(c => `<a href="/districts/${encodeURIComponent(c)}">${esc(labelOf("district", c))}</a>`).join(LANG === "en" ? ", " : "、");
  if (key === "case" || key === "cases") return `<a href="/cases/${encodeURIComponent(v)}" translate="no">${esc(v)}</a>`;
  if (key === "monitoring_run" && typeof v === "number") return `<a href="/runs/${v}">#${v}</a>`;
  if (key === "source" && /^(stations|grid):/.test(v)) return rainSourceHtml(v);
  if (key === "project") return `<a href="/projects/${encodeURIComponent(v)}" translate="no">${esc(v)}</a>`;
  if (typeof v === "number") return esc(Number.isInteger(v) && !(VOCAB.units.field || {})[key] ? String(v) : fmt(v, Number.isInteger(v) ? 0 : 2));
  const known = group && (VOCAB.labels[group] || {})[v];
  if (known != null && known !== undefined && known !== false) return esc(known);
  if (ISO_TIME.test(v)) return esc(moment(v));
  if (CODE_LIKE.test(v) && labelAny(v) !== v) return esc(labelAny(v));
  return `<span translate="no">${esc(v)}</span>`;  // free text or a record's id: data, not a UI word
}
// A warning's rain source as stored ("stations:36": 36 stations interpolated; "grid:PATH": a rain raster): the
// kind's label (vocabulary group rain_source) and the count, or the raster's file name (never the server's path)
function rainSourceHtml(v) {
  const [kind, ...rest] = String(v).split(":"), detail = rest.join(":");
  if (kind === "stations") return `<a href="/map">${esc(labelOf("rain_source", kind))}</a> · ${esc(detail)}`;
  return `${esc(labelOf("rain_source", kind))} · <span translate="no">${esc(detail.split(/[\\/]/).pop())}</span>`;
}
// A coordinate reference system by name: "EPSG:4490" as given; a WKT by the name it carries
function crsName(crs) {
  if (!crs) return "";
  const m = /^\s*(?:PROJCS|GEOGCS|PROJCRS|GEOGCRS|COMPD_CS|COMPOUNDCRS)\["([^"]+)"/.exec(crs);
  const epsg = /AUTHORITY\["EPSG","(\d+)"\]\]\s*$/.exec(crs) || /ID\["EPSG",(\d+)\]\]\s*$/.exec(crs);
  return m ? m[1] + (epsg ? ` (EPSG:${epsg[1]})` : "") : String(crs);
}
// A case's category: a confirmed violation drops its 疑似 (suspected), as supervision.model.case_category_label
function caseCategory(c) {
  const confirmed = c.confirmed && (VOCAB.labels.compliance_confirmed || {})[c.category];
  return confirmed ? labelOf("compliance_confirmed", c.category) : labelOf("case_category", c.category);
}
// One entry of a list of [kind, id] pairs (a credit entry's evidence: ["case", 12]): the kind's label and the id
function pairHtml(x) { return x.map(y => valueHtml("", y)).join(" · "); }
// A record (an audit row's before/after, a project's event) as a labelled definition list, never a JSON dump.
function recordHtml(obj, keyLabel = k => labelOf("field", k)) {
  if (obj == null) return "";
  if (typeof obj !== "object") return valueHtml("", obj);
  const rows = Object.entries(obj).map(([k, v]) => {
    const u = (VOCAB.units.field || {})[k];
    const name = keyLabel(k);  // a key without a label is a record's own id (a station code): data
    return `<dt${name === k ? ' translate="no"' : ""}>${esc(name)}${u ? `（${esc(u)}）` : ""}</dt><dd>${valueHtml(k, v)}</dd>`;
  });
  return `<dl class="record">${rows.join("")}</dl>`;
}
function esc(s) { return String(s ?? "").replace(/[&<>"']/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c])); }
const logout = document.getElementById("logout");
if (logout) logout.addEventListener("click", async (e) => { e.preventDefault(); await fetch("/api/logout", {method: "POST"}); location.href = "/login"; });
