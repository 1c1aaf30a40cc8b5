// Shared helpers of the Shuibao UI: API calls with the session cookie, formatting, escaping.
async function api(path) {
  const r = await fetch(path, {credentials: "same-origin"});
  if (r.status === 401) { location.href = "/login"; throw new Error("not logged in"); }
  if (!r.ok) throw new Error((await r.json()).detail);
  return r.json();
}
function fmt(v, digits = 2) { return v == null ? "—" : Number(v).toFixed(digits); }
function esc(s) { return String(s ?? "").replace(/[&<>"']/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c])); }
const logout = document.getElementById("logout");
if (logout) logout.addEventListener("click", async (e) => { e.preventDefault(); await fetch("/api/logout", {method: "POST"}); location.href = "/login"; });
