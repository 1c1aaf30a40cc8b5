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
function fmt(v, digits = 2) { return v == null ? "—" : Number(v).toFixed(digits); }
function esc(s) { return String(s ?? "").replace(/[&<>"']/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c])); }
const logout = document.getElementById("logout");
if (logout) logout.addEventListener("click", async (e) => { e.preventDefault(); await fetch("/api/logout", {method: "POST"}); location.href = "/login"; });
