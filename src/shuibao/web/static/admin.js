// The data-management page (/admin): each form posts to its endpoint (multipart or JSON) and shows the result
// as a labelled record, or the error detail with every refused row.
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
for (const form of document.querySelectorAll("form.admin-form")) {
  form.addEventListener("submit", (e) => { e.preventDefault(); submitAdmin(form); });
}
