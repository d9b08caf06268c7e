// The monitor's row history: who made a row (the fills back to its template row) and who voted
// on it, when, read from GET /api/tables/{id}/rows/{row_id}/history.

import { api } from "./api.js";
import { el, formatValue, replaceChildren } from "./dom.js";

const time = (at) => new Date(at * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });

function valuesText(values, columns) {
  const names = [...columns.filter((c) => c in values), ...Object.keys(values).filter((k) => !columns.includes(k))];
  return names.map((k) => `${k}: ${formatValue(values[k])}`).join(" · ");
}

function describe(event, columns) {
  const where = event.on === "part of this row" ? " (on part of this row)" : "";
  switch (event.type) {
    case "insert":
      return Object.keys(event.values || {}).length ? `inserted the template row (${valuesText(event.values, columns)})` : "inserted an empty template row";
    case "fill":
      return `filled ${event.column} = ${formatValue(event.value)}${event.upvote ? " (completing the row: counts as an upvote)" : ""}`;
    case "upvote":
      return `upvoted${where}`;
    case "downvote":
      return `downvoted${where}`;
    case "retract":
      return `took back their ${event.kind === "down" ? "downvote" : event.kind === "up" ? "upvote" : "vote"}${where}`;
    default:
      return event.type;
  }
}

/** Show the history of `rowId` in `panel` (replacing what it showed); `columns` in schema order. */
export async function showRowHistory(panel, tableId, rowId, columns = []) {
  panel.hidden = false;
  replaceChildren(panel, el("h2", { id: "history-title", text: `History of row ${rowId}` }), el("p", { class: "muted", text: "Loading…" }));
  let answer;
  try {
    answer = await api("GET", `/api/tables/${encodeURIComponent(tableId)}/rows/${encodeURIComponent(rowId)}/history`);
  } catch (error) {
    replaceChildren(panel, el("h2", { id: "history-title", text: `History of row ${rowId}` }), el("p", { class: "notice notice-error", text: error.message }));
    return;
  }
  const values = valuesText(answer.values || {}, columns);
  replaceChildren(
    panel,
    el("div", { class: "history-head" },
      el("h2", { id: "history-title", text: `History of row ${rowId}` }),
      el("button", { type: "button", class: "small", text: "Close", attrs: { "aria-label": "Close the row history" }, on: { click: () => { panel.hidden = true; } } })),
    el("p", { class: "muted", text: values || "(no values yet)" }),
    el("div", { class: "table-wrap" }, el("table", { class: "data", id: "history-table" },
      el("thead", {}, el("tr", {}, ["#", "time", "who", "what"].map((t) => el("th", { scope: "col", text: t })))),
      el("tbody", {}, (answer.history || []).map((e) =>
        el("tr", { dataset: { type: e.type } },
          el("td", { class: "num", text: e.seq }),
          el("td", { text: time(e.at) }),
          el("td", { text: e.worker }),
          el("td", { text: describe(e, columns) })))),
    )),
  );
  panel.scrollIntoView({ block: "nearest" });
}
