// The worker page's qualification step (docs/quality.md, "Screening"): before a table with
// screening opens, the worker says of each shown row whether it is right or wrong. Passing opens
// the table; failing says so politely, and the server refuses this worker from then on.

import { el, formatValue, notice, replaceChildren, setConnection } from "./dom.js";

async function call(method, path, token, body) {
  const headers = { Accept: "application/json", Authorization: `Bearer ${token}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const answer = await response.json().catch(() => null);
  if (!response.ok) throw new Error(answer?.error?.message || response.statusText);
  return answer;
}

/**
 * Resolve true once the worker may join the live table (no screening, passed now or before);
 * false after a failed screening (the page then shows only the polite message).
 */
export async function screenWorker(tableId, token, hideTable) {
  const path = `/api/tables/${encodeURIComponent(tableId)}/screening`;
  const first = await call("GET", path, token);
  if (!first.required || first.status === "passed") return true;
  hideTable(true);
  setConnection("preview", "Qualification");
  const host = el("section", { id: "screening", class: "card", attrs: { "aria-labelledby": "screening-title" } });
  document.querySelector("main").prepend(host);
  if (first.status === "failed") {
    replaceChildren(host, el("h2", { id: "screening-title", text: "Qualification" }), el("p", { id: "screening-message", text: first.message }));
    return false;
  }
  const columns = (first.schema?.columns || []).map((c) => c.name);
  const choices = new Map();
  const rows = first.rows.map((row) => {
    const name = `screen-${row.row_id}`;
    const option = (answer, label) => el("label", { class: "screening-choice" },
      el("input", { type: "radio", name, value: answer, dataset: { question: row.row_id }, on: { change: () => choices.set(row.row_id, answer) } }), ` ${label}`);
    return el("li", { class: "screening-row", dataset: { question: row.row_id } },
      el("span", { class: "screening-values", text: columns.map((c) => `${c}: ${formatValue(row.values[c])}`).join(" · ") }),
      " ", option("up", "right"), " ", option("down", "wrong"));
  });
  const submit = el("button", { type: "button", id: "screening-submit", class: "primary", text: "Send my answers" });
  replaceChildren(host,
    el("h2", { id: "screening-title", text: "Qualification" }),
    el("p", { text: `Before you join, say for each row below whether it is right or wrong. ${first.rows.length} rows; you can answer only once.` }),
    el("ol", {}, rows),
    submit);
  return new Promise((resolve) => {
    submit.addEventListener("click", async () => {
      const missing = first.rows.filter((row) => !choices.has(row.row_id)).length;
      if (missing) {
        notice(`Answer every row first (${missing} left).`, "error");
        return;
      }
      submit.disabled = true;
      let outcome;
      try {
        outcome = await call("POST", path, token, { answers: Object.fromEntries(choices) });
      } catch (error) {
        submit.disabled = false;
        notice(`Your answers could not be sent: ${error.message}`, "error");
        return;
      }
      if (outcome.status === "passed") {
        host.remove();
        hideTable(false);
        notice(outcome.message, "success");
        resolve(true);
      } else {
        replaceChildren(host, el("h2", { id: "screening-title", text: "Qualification" }), el("p", { id: "screening-message", text: outcome.message }));
        resolve(false);
      }
    });
  });
}
