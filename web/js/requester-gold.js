// The requester's gold rows panel for a saved table: complete rows whose verdict is known, mixed
// into the live table to measure the voters (docs/quality.md). While the table is a draft the
// requester adds one row at a time, imports a CSV (the columns plus `verdict`), removes rows and
// sets the optional screening; once launched the list is read-only.

import { api, download, requesterToken } from "./api.js";
import { announce, el, formatValue, replaceChildren } from "./dom.js";

const toasts = document.getElementById("toasts");

// A success clears the page's error notice, so a fixed mistake does not stay on screen.
function clearNotice() {
  const box = document.getElementById("notice");
  if (box) box.hidden = true;
}

/** The panel; `notice(message, kind)` reports failures the way the rest of the page does. */
export function goldPanel(current, notice) {
  const base = `/api/tables/${encodeURIComponent(current.id)}/gold`;
  const columns = (current.definition?.schema?.columns || []).map((c) => c.name);
  const draft = current.status === "draft";
  const list = el("table", { class: "data", id: "gold-rows" });
  const inputs = columns.map((name) => el("input", { type: "text", dataset: { goldColumn: name }, attrs: { "aria-label": `gold ${name}`, placeholder: name } }));
  const verdict = el("select", { id: "gold-verdict", attrs: { "aria-label": "verdict" } },
    el("option", { value: "true", text: "right (true)" }),
    el("option", { value: "false", text: "wrong (false)" }));
  const csvFile = el("input", { type: "file", id: "gold-csv-file", accept: ".csv,text/csv", attrs: { "aria-label": "gold rows CSV file" } });
  const screening = current.definition?.screening || null;
  const screenRows = el("input", { type: "number", id: "screening-rows", min: "0", step: "1", value: screening ? String(screening.gold_rows) : "0", attrs: { "aria-label": "screening gold rows" } });
  const screenPass = el("input", { type: "number", id: "screening-pass", min: "0.01", max: "1", step: "0.01", value: screening ? String(screening.pass_fraction) : "0.8", attrs: { "aria-label": "screening pass fraction" } });

  const load = async () => {
    let gold = [];
    try {
      gold = (await api("GET", base)).gold || [];
    } catch (error) {
      notice(`Cannot load the gold rows: ${error.message}`, "error");
    }
    const rows = gold.map((row) => el("tr", { dataset: { goldId: row.id } },
      ...columns.map((name) => el("td", { text: formatValue(row.values[name]) })),
      el("td", { class: row.verdict ? "verdict-true" : "verdict-false", text: row.verdict ? "right" : "wrong" }),
      el("td", {}, draft ? el("button", { type: "button", class: "small danger", text: "Remove", attrs: { "aria-label": `remove gold row ${row.id}` }, on: { click: () => remove(row) } }) : null)));
    replaceChildren(list,
      el("thead", {}, el("tr", {}, [...columns, "verdict", ""].map((t) => el("th", { scope: "col", text: t })))),
      el("tbody", {}, rows.length ? rows : el("tr", {}, el("td", { colSpan: columns.length + 2, class: "muted", text: "No gold rows." }))));
  };

  const add = async () => {
    const values = {};
    for (const input of inputs) values[input.dataset.goldColumn] = input.value.trim();
    const empty = Object.entries(values).filter(([, v]) => v === "").map(([k]) => k);
    if (empty.length) {
      notice(`Cannot add the gold row: a gold row is complete; fill ${empty.join(", ")}.`, "error");
      return;
    }
    try {
      // Cells go as typed text; the server reads them by their column's type, as for a CSV.
      await api("POST", base, { body: { values, verdict: verdict.value === "true" } });
      for (const input of inputs) input.value = "";
      announce(toasts, "Gold row added.", "success", 3000);
      clearNotice();
    } catch (error) {
      notice(`Cannot add the gold row: ${error.message}`, "error");
    }
    await load();
  };

  const remove = async (row) => {
    try {
      await api("DELETE", `${base}/${encodeURIComponent(row.id)}`);
      announce(toasts, "Gold row removed.", "success", 3000);
      clearNotice();
    } catch (error) {
      notice(`Cannot remove the gold row: ${error.message}`, "error");
    }
    await load();
  };

  const importCsv = async () => {
    const file = csvFile.files && csvFile.files[0];
    if (!file) {
      notice("Cannot import: choose a CSV file whose header names the columns and verdict.", "error");
      return;
    }
    try {
      const response = await fetch(`${base}/csv`, {
        method: "POST",
        headers: { "Content-Type": "text/csv", Accept: "application/json", Authorization: `Bearer ${requesterToken()}` },
        body: await file.text(),
      });
      const body = await response.json();
      if (!response.ok) throw new Error(body?.error?.message || response.statusText);
      announce(toasts, `Imported ${body.imported} gold row${body.imported === 1 ? "" : "s"}.`, "success", 3000);
      csvFile.value = "";
      clearNotice();
    } catch (error) {
      notice(`Cannot import the gold rows: ${error.message}`, "error");
    }
    await load();
  };

  const saveScreening = async () => {
    const count = Number(screenRows.value);
    const pass = Number(screenPass.value);
    const body = count > 0 ? { screening: { gold_rows: count, pass_fraction: pass } } : { screening: null };
    try {
      const table = await api("PATCH", `/api/tables/${encodeURIComponent(current.id)}`, { body });
      current.definition = table.definition;
      announce(toasts, count > 0 ? `Screening set: ${count} gold rows, pass at ${pass}.` : "Screening off.", "success", 3000);
    } catch (error) {
      notice(`Cannot set the screening: ${error.message}`, "error");
    }
  };

  load();
  return el("section", { class: "card", id: "gold-panel", attrs: { "aria-labelledby": "gold-title" } },
    el("h2", { id: "gold-title", text: "Gold rows" }),
    el("p", { class: "muted", text: "Complete rows whose verdict you know. Workers see them as ordinary rows; their votes on them measure the voters. Gold rows never enter the final table." }),
    el("div", { class: "table-wrap" }, list),
    draft ? el("div", { class: "field-row", id: "gold-add" }, ...inputs, verdict,
      el("button", { type: "button", id: "gold-add-button", text: "Add gold row", on: { click: add } })) : el("p", { class: "muted", text: "The table is launched: its gold rows can no longer change." }),
    draft ? null : el("button", { type: "button", class: "small", id: "gold-answers-csv", text: "Gold answers (CSV)", on: { click: () => download(`${base}/answers.csv`, `${current.id}-gold.csv`).catch((e) => notice(`Export failed: ${e.message}`, "error")) } }),
    draft ? el("div", { class: "field-row" },
      el("label", {}, "Import CSV (columns and verdict) ", csvFile),
      el("button", { type: "button", id: "gold-import", text: "Import", on: { click: importCsv } })) : null,
    draft ? el("div", { class: "field-row", id: "screening" },
      el("label", {}, "Screening: first gold rows shown to each new worker (0: none) ", screenRows),
      el("label", {}, "share right to pass ", screenPass),
      el("button", { type: "button", id: "screening-save", text: "Save screening", on: { click: saveScreening } })) : null);
}
