// The requester's panels for a saved table: recruiting workers (personal links, market URLs) and
// results (exports, compensation). Exports go through fetch + a blob because a plain link cannot
// carry the requester's Bearer token.

import { api, download } from "./api.js";
import { announce, copyText, el, formatCents, replaceChildren } from "./dom.js";

const toasts = document.getElementById("toasts");

/** Personal links (create, copy, revoke) and the URLs to give MTurk and Prolific. */
export function recruitPanel(current, notice) {
  const base = current.worker_url || `${location.origin}/w/${encodeURIComponent(current.id)}`;
  const prolific = `${base}?PROLIFIC_PID={{%PROLIFIC_PID%}}&STUDY_ID={{%STUDY_ID%}}&SESSION_ID={{%SESSION_ID%}}`;
  const workerInput = el("input", { id: "link-worker-id", type: "text", attrs: { placeholder: "worker id (optional)", "aria-label": "worker id for the new link (optional)" } });
  const create = async () => {
    const body = workerInput.value.trim() ? { worker_id: workerInput.value.trim() } : {};
    try {
      const link = await api("POST", `/api/tables/${encodeURIComponent(current.id)}/links`, { body });
      workerInput.value = "";
      announce(toasts, `Link created for ${link.worker_id}.`, "success", 3000);
      await loadLinks(current, linksTable, notice, link);
    } catch (error) {
      notice(`Cannot create a link: ${error.message}`, "error");
    }
  };
  workerInput.addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      e.preventDefault();
      create();
    }
  });
  const linksTable = el("table", { class: "data links", id: "links" });
  loadLinks(current, linksTable, notice);
  return el(
    "section",
    { id: "recruit", attrs: { "aria-labelledby": "recruit-title" } },
    el("h2", { id: "recruit-title", text: "Workers" }),
    el("h3", { text: "Personal links (manual recruitment)" }),
    el("div", { class: "field-row" }, workerInput, el("button", { type: "button", id: "create-link", text: "Create link", on: { click: create } })),
    linksTable,
    el("h3", { text: "Crowd markets" }),
    copyRow("MTurk ExternalQuestion URL (MTurk adds its own parameters)", base, "mturk-url"),
    copyRow("Prolific study URL", prolific, "prolific-url"),
  );
}

function copyRow(label, value, id) {
  const field = el("input", { id, type: "text", value, readOnly: true, attrs: { "aria-label": label } });
  return el("div", { class: "field-row links" },
    el("label", { style: "flex: 1" }, label, field),
    el("button", { type: "button", class: "small", text: "Copy", attrs: { "aria-label": `copy ${label}` }, on: { click: async () => announce(toasts, (await copyText(value, field)) ? "Copied." : "Selected: press Ctrl+C to copy.", "info", 2500) } }));
}

// Links created in this page, "table/worker" -> url, in case the list endpoint leaves tokens out.
const freshLinks = new Map();
const linkKey = (current, workerId) => `${current.id}/${workerId}`;

async function loadLinks(current, table, notice, created) {
  if (created) freshLinks.set(linkKey(current, created.worker_id), created.url);
  let links = [];
  try {
    links = (await api("GET", `/api/tables/${encodeURIComponent(current.id)}/links`)).links || [];
  } catch (error) {
    notice(`Cannot load links: ${error.message}`, "error");
  }
  const rows = links.map((link) => {
    const url = freshLinks.get(linkKey(current, link.worker_id)) || link.url || "";
    const field = el("input", { type: "text", value: url, readOnly: true, attrs: { "aria-label": `link for ${link.worker_id}` } });
    return el("tr", { dataset: { workerId: link.worker_id } },
      el("td", { text: link.worker_id }),
      el("td", {}, link.revoked ? el("span", { class: "muted", text: "revoked" }) : field),
      el("td", {},
        link.revoked ? null : el("button", { type: "button", class: "small", text: "Copy", attrs: { "aria-label": `copy the link for ${link.worker_id}` }, on: { click: async () => announce(toasts, (await copyText(url, field)) ? "Link copied." : "Selected: press Ctrl+C to copy.", "info", 2500) } }),
        " ",
        link.revoked ? null : el("button", { type: "button", class: "small danger", text: "Revoke", attrs: { "aria-label": `revoke the link for ${link.worker_id}` }, on: { click: () => revoke(current, table, notice, link.worker_id) } }),
      ));
  });
  replaceChildren(table,
    el("thead", {}, el("tr", {}, ["worker", "link", ""].map((t) => el("th", { scope: "col", text: t })))),
    el("tbody", {}, rows.length ? rows : el("tr", {}, el("td", { colSpan: 3, class: "muted", text: "No links yet." }))));
}

async function revoke(current, table, notice, workerId) {
  try {
    await api("DELETE", `/api/tables/${encodeURIComponent(current.id)}/links/${encodeURIComponent(workerId)}`);
    freshLinks.delete(linkKey(current, workerId));
    announce(toasts, `Link for ${workerId} revoked.`, "success", 3000);
  } catch (error) {
    notice(`Cannot revoke: ${error.message}`, "error");
  }
  await loadLinks(current, table, notice);
}

/** Export buttons for the final and candidate tables, and the compensation report. */
export function resultsPanel(current, name, notice) {
  const id = encodeURIComponent(current.id);
  const exportButton = (file, text) =>
    el("button", { type: "button", class: "small", text, dataset: { export: file }, on: { click: () => download(`/api/tables/${id}/export/${file}`, `${name || current.id}-${file}`).catch((e) => notice(`Export failed: ${e.message}`, "error")) } });
  const report = el("div", { id: "compensation" });
  return el(
    "section",
    { id: "results", attrs: { "aria-labelledby": "results-title" } },
    el("h2", { id: "results-title", text: "Results" }),
    el("div", { class: "actions" },
      exportButton("final.csv", "Final table (CSV)"),
      exportButton("final.jsonl", "Final table (JSONL)"),
      exportButton("candidates.csv", "Candidate rows (CSV)"),
      exportButton("candidates.jsonl", "Candidate rows (JSONL)"),
      el("button", { type: "button", class: "small", id: "show-compensation", text: "Compensation report", on: { click: () => showCompensation(current, report, notice) } }),
    ),
    report,
  );
}

async function showCompensation(current, box, notice) {
  let data;
  try {
    data = await api("GET", `/api/tables/${encodeURIComponent(current.id)}/compensation`);
  } catch (error) {
    notice(`Cannot load the compensation report: ${error.message}`, "error");
    return;
  }
  const entries = data.settled
    ? Object.entries(data.settlement?.payments || {}).map(([w, cents]) => [w, cents])
    : Object.entries(data.workers || {}).map(([w, e]) => [w, e.total]);
  replaceChildren(box,
    el("p", { text: data.settled
      ? `Settled: ${formatCents(data.settlement?.paid_cents)} paid of a ${formatCents(data.budget_cents)} budget.`
      : `Still collecting: about ${formatCents(data.estimated_total_cents)} earned so far of a ${formatCents(data.budget_cents)} budget.` }),
    el("table", { class: "data" },
      el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "worker" }), el("th", { scope: "col", text: data.settled ? "pay" : "estimated pay" }))),
      el("tbody", {}, entries.map(([w, cents]) => el("tr", {}, el("td", { text: w }), el("td", { class: "num", text: formatCents(cents) }))))));
}
