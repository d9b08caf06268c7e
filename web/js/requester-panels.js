// The requester's panels for a saved table: recruiting workers (personal links, market URLs) and
// results (exports, compensation). Exports go through fetch + a blob because a plain link cannot
// carry the requester's Bearer token.

import { api } from "./api.js";
import { announce, copyText, el, formatCents, replaceChildren } from "./dom.js";
import { exportControls } from "./requester-exports.js";

const toasts = document.getElementById("toasts");

const MAX_EXPIRY_HOURS = 10 * 365 * 24; // the server's limit (ten years)

/**
 * The link expiry typed in hours, as the API's `expires_in_seconds`: undefined when left empty,
 * or `{error}` for something that is not a positive number of hours.
 */
export function expirySeconds(text) {
  const raw = String(text).trim();
  if (raw === "") return undefined;
  const hours = Number(raw);
  if (!Number.isFinite(hours) || hours <= 0 || hours > MAX_EXPIRY_HOURS) {
    return { error: `the expiry must be a number of hours above 0 and at most ${MAX_EXPIRY_HOURS}, got "${raw}"` };
  }
  return Math.max(1, Math.round(hours * 3600));
}

/** Personal links (create with an optional expiry, copy, revoke), blocking workers, and the URLs to give MTurk and Prolific. */
export function recruitPanel(current, notice) {
  const base = current.worker_url || `${location.origin}/w/${encodeURIComponent(current.id)}`;
  const prolific = `${base}?PROLIFIC_PID={{%PROLIFIC_PID%}}&STUDY_ID={{%STUDY_ID%}}&SESSION_ID={{%SESSION_ID%}}`;
  const workerInput = el("input", { id: "link-worker-id", type: "text", attrs: { placeholder: "worker id (optional)", "aria-label": "worker id for the new link (optional)" } });
  const expiryInput = el("input", {
    id: "link-expiry-hours",
    type: "number",
    min: "0",
    step: "any",
    attrs: { placeholder: "never expires", "aria-label": "link expires after this many hours (optional)", title: "Hours until the link stops working; empty: never" },
  });
  const create = async () => {
    const body = workerInput.value.trim() ? { worker_id: workerInput.value.trim() } : {};
    // A number field reports text it cannot read as "" (badInput): that must not mean "never expires".
    const expiry = expiryInput.validity.badInput ? { error: "the expiry must be a number of hours" } : expirySeconds(expiryInput.value);
    if (expiry && expiry.error) {
      notice(`Cannot create a link: ${expiry.error}.`, "error");
      expiryInput.focus();
      return;
    }
    if (expiry !== undefined) body.expires_in_seconds = expiry;
    try {
      const link = await api("POST", `/api/tables/${encodeURIComponent(current.id)}/links`, { body });
      workerInput.value = "";
      expiryInput.value = "";
      announce(toasts, `Link created for ${link.worker_id}.`, "success", 3000);
      await loadLinks(current, linksTable, notice, link);
    } catch (error) {
      notice(`Cannot create a link: ${error.message}`, "error");
    }
  };
  for (const field of [workerInput, expiryInput]) {
    field.addEventListener("keydown", (e) => {
      if (e.key === "Enter") {
        e.preventDefault();
        create();
      }
    });
  }
  const linksTable = el("table", { class: "data links", id: "links" });
  loadLinks(current, linksTable, notice);
  return el(
    "section",
    { id: "recruit", attrs: { "aria-labelledby": "recruit-title" } },
    el("h2", { id: "recruit-title", text: "Workers" }),
    el("h3", { text: "Personal links (manual recruitment)" }),
    el("div", { class: "field-row" }, workerInput, expiryInput, el("button", { type: "button", id: "create-link", text: "Create link", on: { click: create } })),
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

function expiryText(link) {
  if (link.expires_at === null || link.expires_at === undefined) return "never";
  const at = new Date(link.expires_at * 1000);
  return at.getTime() <= Date.now() ? `expired ${at.toLocaleString()}` : at.toLocaleString();
}

/**
 * One row per worker: those with a personal link, then those who came another way (MTurk,
 * Prolific) and are known from the workers list, so any of them can be blocked.
 */
async function loadLinks(current, table, notice, created) {
  if (created) freshLinks.set(linkKey(current, created.worker_id), created.url);
  const id = encodeURIComponent(current.id);
  const [links, workers] = await Promise.all([
    api("GET", `/api/tables/${id}/links`).then((answer) => answer.links || [], (error) => {
      notice(`Cannot load links: ${error.message}`, "error");
      return [];
    }),
    api("GET", `/api/tables/${id}/workers`).then((answer) => answer.workers || [], (error) => {
      notice(`Cannot load workers: ${error.message}`, "error");
      return [];
    }),
  ]);
  const blocked = new Set(workers.filter((w) => w.blocked).map((w) => w.worker_id));
  const linked = new Set(links.map((link) => link.worker_id));
  const entries = [...links, ...workers.filter((w) => !linked.has(w.worker_id)).map((w) => ({ worker_id: w.worker_id, marketOnly: true }))];
  const rows = entries.map((link) => {
    const workerId = link.worker_id;
    const isBlocked = blocked.has(workerId);
    const url = freshLinks.get(linkKey(current, workerId)) || link.url || "";
    const field = el("input", { type: "text", value: url, readOnly: true, attrs: { "aria-label": `link for ${workerId}` } });
    let shown;
    if (link.marketOnly) shown = el("span", { class: "muted", text: "no personal link" });
    else if (link.revoked) shown = el("span", { class: "muted", text: "revoked" });
    else shown = field;
    const usable = !link.marketOnly && !link.revoked;
    return el("tr", { dataset: { workerId, blocked: isBlocked ? "yes" : "no" } },
      el("td", { text: workerId }),
      el("td", {}, shown),
      el("td", { class: "expires", text: link.marketOnly ? "" : expiryText(link) }),
      el("td", {},
        usable ? el("button", { type: "button", class: "small", text: "Copy", attrs: { "aria-label": `copy the link for ${workerId}` }, on: { click: async () => announce(toasts, (await copyText(url, field)) ? "Link copied." : "Selected: press Ctrl+C to copy.", "info", 2500) } }) : null,
        " ",
        usable ? el("button", { type: "button", class: "small danger", text: "Revoke", attrs: { "aria-label": `revoke the link for ${workerId}` }, on: { click: () => revoke(current, table, notice, workerId) } }) : null,
        " ",
        isBlocked ? [el("span", { class: "badge blocked", text: "blocked" }), " ", unblockButton(current, table, notice, workerId)] : blockButton(current, table, notice, workerId),
      ));
  });
  replaceChildren(table,
    el("thead", {}, el("tr", {}, ["worker", "link", "expires", ""].map((t) => el("th", { scope: "col", text: t })))),
    el("tbody", {}, rows.length ? rows : el("tr", {}, el("td", { colSpan: 4, class: "muted", text: "No links yet." }))));
}

function blockButton(current, table, notice, workerId) {
  // Two clicks, as for closing a table: a block closes the worker's sessions at once (unblocking later
  // lets them back in, but does not reopen what they were doing).
  const button = el("button", { type: "button", class: "small danger", text: "Block", attrs: { "aria-label": `block worker ${workerId}` } });
  let armed = false;
  button.addEventListener("click", async () => {
    if (!armed) {
      armed = true;
      button.textContent = "Click again to block";
      setTimeout(() => {
        armed = false;
        button.textContent = "Block";
      }, 5000);
      return;
    }
    button.disabled = true;
    try {
      await api("POST", `/api/tables/${encodeURIComponent(current.id)}/workers/${encodeURIComponent(workerId)}/block`);
      announce(toasts, `${workerId} is blocked: their sessions were closed and they cannot rejoin.`, "success", 4000);
    } catch (error) {
      notice(`Cannot block ${workerId}: ${error.message}`, "error");
    }
    await loadLinks(current, table, notice);
  });
  return button;
}

function unblockButton(current, table, notice, workerId) {
  // One click: unblocking only lets the worker back in, and Block is there again to undo it.
  const button = el("button", { type: "button", class: "small", text: "Unblock", attrs: { "aria-label": `unblock worker ${workerId}` } });
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await api("DELETE", `/api/tables/${encodeURIComponent(current.id)}/workers/${encodeURIComponent(workerId)}/block`);
      announce(toasts, `${workerId} is unblocked: they may join again (a link they had still works unless revoked).`, "success", 4000);
    } catch (error) {
      notice(`Cannot unblock ${workerId}: ${error.message}`, "error");
    }
    await loadLinks(current, table, notice);
  });
  return button;
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
  const report = el("div", { id: "compensation" });
  return el(
    "section",
    { id: "results", attrs: { "aria-labelledby": "results-title" } },
    el("h2", { id: "results-title", text: "Results" }),
    exportControls(current, name, notice),
    el("div", { class: "actions" },
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
      ? `Settled (${data.completed ? "completed" : "closed early"}): ${formatCents(data.paid_cents)} paid of a ${formatCents(data.budget_cents)} budget, ${formatCents(data.unpaid_cents)} unpaid.`
      : `Still collecting: about ${formatCents(data.estimated_total_cents)} earned so far of a ${formatCents(data.budget_cents)} budget.` }),
    data.settled ? unpaidReasons(data.unpaid_reasons || {}) : null,
    data.settled ? fooledBonus(data.settlement?.fooled_bonus) : null,
    el("table", { class: "data" },
      el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "worker" }), el("th", { scope: "col", text: data.settled ? "pay" : "estimated pay" }))),
      el("tbody", {}, entries.map(([w, cents]) => el("tr", {}, el("td", { text: w }), el("td", { class: "num", text: formatCents(cents) }))))));
}

// What each unpaid reason code of the settlement means (docs/compensation.md, "Unpaid budget").
const UNPAID_REASONS = {
  closed_early_unfilled: "kept for template rows that never got a final row",
  template_values: "values nobody entered (the template's, the central client's)",
  no_agreeing_voters: "vote share of final rows nobody confirmed",
  rounding: "fractions of a cent lost rounding down",
  no_contributions: "no worker contributed to the final table",
};

/** The bonus for rows that fooled the model, when the requester set a share for it. */
function fooledBonus(bonus) {
  if (!bonus) return null;
  const paid = Object.entries(bonus.payments || {}).map(([w, cents]) => `${w} ${formatCents(cents)}`).join(", ");
  return el("p", { id: "fooled-bonus-report", text: bonus.rows.length
    ? `Bonus for ${bonus.rows.length} row(s) that fooled the model: ${formatCents(bonus.pool_cents)} (${Math.round(bonus.share * 100)}% of the budget), included in the pay below: ${paid}.`
    : `No row fooled the model: the ${Math.round(bonus.share * 100)}% bonus share went to the ordinary split.` });
}

/** The unpaid cents by reason, or a note that the whole budget was paid. */
function unpaidReasons(reasons) {
  const entries = Object.entries(reasons);
  if (entries.length === 0) return el("p", { id: "unpaid-reasons", text: "The whole budget is paid out." });
  return el("table", { class: "data", id: "unpaid-reasons" },
    el("caption", { text: "Unpaid, by reason" }),
    el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "reason" }), el("th", { scope: "col", text: "unpaid" }))),
    el("tbody", {}, entries.map(([code, cents]) =>
      el("tr", { dataset: { reason: code } }, el("td", { text: UNPAID_REASONS[code] || code }), el("td", { class: "num", text: formatCents(cents) })))));
}
