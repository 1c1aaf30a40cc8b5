// The data-management page (/admin): each form posts to its endpoint (multipart or JSON) and shows the result
// as a labelled record, or the error detail with every refused row.  An import form (data-mapping = its kind)
// has a mapping step: once a file is chosen, the server reads its columns (/api/imports/columns) and the form
// shows one select per expected field, prefilled from the source's remembered mapping or the aliases; the
// selects travel as `fields` (JSON field → column) and the server remembers them for the source.
const MAPPING_WORDS = JSON.parse(document.getElementById("mapping-words")?.textContent || "{}");
function showRows(rows) {
  // the file's own problems are row 0; a row is named as a spreadsheet numbers it, its status by its label
  const where = r => r.row === 0 ? (LANG === "en" ? "file" : "文件") : (LANG === "en" ? `row ${r.row}` : `第 ${r.row} 行`);
  const [open, close, colon] = LANG === "en" ? [" (", ")", ": "] : ["（", "）", "："];
  return (rows || []).map(r => `${where(r)}${r.key ? open + r.key + close : ""}${colon}`
    + `${r.status === "file" ? "" : labelOf("row_status", r.status) + " — "}${r.messages}`).join("\n");
}
async function submitAdmin(form) {
  const result = form.querySelector(".result"), error = form.querySelector(".error");
  const button = form.querySelector("button[type=submit]");
  result.textContent = ""; error.textContent = ""; button.disabled = true;
  try {
    let init;
    if (form.dataset.kind === "json") {
      const body = {};
      for (const el of form.querySelectorAll("input[name], select[name]")) {
        if (el.value === "") continue;
        body[el.name] = el.dataset.type === "int" ? parseInt(el.value, 10) : el.value;
      }
      init = {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)};
    } else {
      const data = new FormData(form);
      for (const [k, v] of [...data.entries()]) if (v === "" || (v instanceof File && !v.name)) data.delete(k);
      for (const k of [...data.keys()]) if (k.startsWith("map:")) data.delete(k);
      const mapping = mappingOf(form);
      if (mapping) data.set("fields", JSON.stringify(mapping));
      init = {method: "POST", body: data};
    }
    const r = await fetch(form.dataset.endpoint, {credentials: "same-origin", ...init});
    if (r.status === 401) { location.href = "/login"; return; }
    const payload = await r.json().catch(() => ({detail: r.statusText}));
    if (r.ok) {
      result.innerHTML = recordHtml(payload);  // the answer as a labelled record (app.js), not a JSON dump
    } else {
      // the sentence (in the page's language), not the status code; a refused import's rows once, below it
      const detail = errorText(payload);
      error.textContent = payload.rows ? detail.split("\n")[0] : detail;
      if (payload.rows) result.textContent = showRows(payload.rows);
    }
  } catch (exc) {
    error.textContent = String(exc);
  } finally {
    button.disabled = false;
  }
}
// The mapping step: the form's selects as field → column ("" = not in the file); null before a file is read
function mappingOf(form) {
  const box = form.querySelector("fieldset.mapping");
  if (!box || box.hidden) return null;
  const out = {};
  for (const sel of box.querySelectorAll("select[data-field]")) out[sel.dataset.field] = sel.value;
  return out;
}
async function loadColumns(form) {
  const box = form.querySelector("fieldset.mapping"), file = form.querySelector("input[type=file][name=file]");
  const error = form.querySelector(".error"), note = box.querySelector(".mapping-note");
  const body = box.querySelector("tbody");
  const f0 = file.files[0];
  const extra = ["layer", "source", "variable"].map(name => [name, form.querySelector(`[name=${name}]`)?.value || ""]);
  // the same file and options as the mapping shown: keep it (and the officer's choices); a blur is no change
  const key = f0 ? JSON.stringify([f0.name, f0.size, f0.lastModified, extra]) : "";
  if (key === (form.dataset.mappingKey || "")) return;
  form.dataset.mappingKey = key;
  box.hidden = true; body.innerHTML = ""; error.textContent = "";
  if (!f0) return;
  const data = new FormData();
  data.set("file", f0);
  data.set("kind", form.dataset.mapping);
  for (const [name, value] of extra) if (value) data.set(name, value);
  note.textContent = MAPPING_WORDS.loading || "";
  form.dataset.mappingReady = "0";
  const r = await fetch("/api/imports/columns", {method: "POST", body: data, credentials: "same-origin"});
  if (r.status === 401) { location.href = "/login"; return; }
  const payload = await r.json().catch(() => ({detail: r.statusText}));
  if (!r.ok) {
    form.dataset.mappingKey = "";  // a later try reads the file again
    error.textContent = `${r.status}: ${typeof payload.detail === "string" ? payload.detail : JSON.stringify(payload.detail)}`;
    return;
  }
  const [open, close] = LANG === "en" ? [" (", ")"] : ["（", "）"];
  for (const f of payload.fields) {
    const tr = document.createElement("tr");
    const th = document.createElement("th"), td = document.createElement("td");
    th.textContent = labelOf("field", f.name) + (f.required ? `${open}${MAPPING_WORDS.required}${close}` : "");
    th.title = f.name;
    const sel = document.createElement("select");
    sel.dataset.field = f.name; sel.name = `map:${f.name}`;
    sel.setAttribute("aria-label", labelOf("field", f.name));
    sel.add(new Option(MAPPING_WORDS.none, ""));
    for (const c of payload.columns) sel.add(new Option(c, c));
    sel.value = f.column || "";
    if (f.from) sel.dataset.from = f.from;
    td.append(sel);
    const note = (MAPPING_WORDS.notes || {})[`${form.dataset.mapping}.${f.name}`];
    if (note) { const small = document.createElement("small"); small.className = "mapping-hint"; small.textContent = " " + note; td.append(small); }
    tr.append(th, td); body.append(tr);
  }
  note.textContent = payload.remembered ? MAPPING_WORDS.remembered : MAPPING_WORDS.aliases;
  box.dataset.remembered = payload.remembered ? "1" : "0";
  box.hidden = false;
  form.dataset.mappingReady = "1";
}
for (const form of document.querySelectorAll("form.admin-form")) {
  form.addEventListener("submit", (e) => { e.preventDefault(); submitAdmin(form); });
  if (!form.dataset.mapping) continue;
  const reload = () => loadColumns(form).catch(exc => { form.querySelector(".error").textContent = String(exc); });
  form.querySelector("input[type=file][name=file]").addEventListener("change", reload);
  for (const name of ["source", "layer", "variable"]) form.querySelector(`[name=${name}]`)?.addEventListener("change", reload);
}
