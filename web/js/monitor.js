// The Data Monitor: every candidate row with its vote counts, score and colour, the template
// matching, workers and spend, redrawn from each "monitor" message the server pushes.
// Each message is a full picture of the table, so the page simply redraws; no local state to merge.

import { requesterToken, setRequesterToken } from "./api.js";
import { el, formatCents, formatValue, notice, replaceChildren, setConnection } from "./dom.js";
import { showRowHistory } from "./row-history.js";
import { drawGold } from "./monitor-gold.js";
import { liveTransports } from "./transport.js";
import { drawReputation } from "./monitor-reputation.js";

const $ = (id) => document.getElementById(id);
const tableId = decodeURIComponent(location.pathname.split("/").filter(Boolean)[1] || "");
let columns = [];
let socket = null;

if (!requesterToken()) askForToken();
else connect();

function askForToken(message) {
  const form = $("token-form");
  form.hidden = false;
  // Not "Connecting…": nothing happens until the token is given; the empty figures wait hidden.
  setConnection("offline", "Token needed");
  document.body.classList.add("needs-token");
  if (message) notice(message, "error");
  $("token-input").focus();
  form.onsubmit = (event) => {
    event.preventDefault();
    setRequesterToken($("token-input").value);
    form.hidden = true;
    document.body.classList.remove("needs-token");
    $("notice").hidden = true;
    setConnection("connecting", "Connecting…");
    connect();
  };
}

function connect() {
  if (socket) socket.disconnect();
  // Every "monitor" message carries the schema (column order), so no REST call is needed first.
  socket = window.io("/monitor", {
    auth: { token: requesterToken(), table_id: tableId },
    ...liveTransports(),
  });
  socket.on("connect", () => setConnection("online", "Live"));
  socket.on("disconnect", () => setConnection("offline", "Reconnecting…"));
  socket.on("connect_error", (error) => {
    const data = error.data || {};
    if (!socket.active) {
      setConnection("offline", "Refused");
      if (data.code === "unauthorized") askForToken("The requester token was not accepted.");
      else if (data.code === "table_not_found") notice("There is no table with this id.", "error");
      else notice(`The server refused the monitor: ${data.message || error.message}`, "error");
    } else {
      setConnection("offline", "Reconnecting…");
    }
  });
  socket.on("monitor", draw);
}

function draw(message) {
  const table = message.table || {};
  document.title = `${table.name || tableId} · Data Monitor · CrowdFill`;
  $("table-name").textContent = `${table.name || tableId} · Data Monitor`;
  const badge = $("table-status");
  badge.textContent = table.status || "";
  badge.className = `badge ${table.status || ""}`;
  const rows = message.rows || [];
  columns = columnsOf(table, rows, message.matching || []);
  drawCandidates(rows, message.matching || []);
  drawMatching(message.matching || [], rows);
  drawWorkers(message.workers || [], message.fooled || { total: 0, by_worker: {} }, { model: Boolean(message.model), paid: message.spend?.paid_cents != null });
  drawModel(message.model || null);
  drawReputation($("reputation"), tableId, message.reputation || [], table.status === "live");
  $("workers-online").textContent = String(message.workers_online ?? (message.workers || []).filter((w) => w.online).length);
  $("row-count").textContent = String(rows.length);
  const byStatus = {};
  for (const r of rows) byStatus[r.status] = (byStatus[r.status] || 0) + 1;
  $("status-counts").textContent = ["green", "blue", "yellow", "red"].map((s) => `${byStatus[s] || 0} ${s}`).join(" · ");
  $("satisfied").textContent = message.satisfied ? "yes" : "not yet";
  $("seq").textContent = message.seq === undefined ? "–" : `#${message.seq}`;
  drawSpend(message.spend || {}, table);
  drawGold(message);
}

/** Column order: the schema's (every message carries it), else the order values first appear. */
function columnsOf(table, rows, matching) {
  const schema = table.schema;
  if (schema && schema.columns) return schema.columns.map((c) => c.name);
  const seen = [...columns];
  for (const r of [...rows, ...matching]) for (const name of Object.keys(r.values || {})) if (!seen.includes(name)) seen.push(name);
  return seen;
}

function drawCandidates(rows, matching) {
  const servedBy = new Map(); // row id -> template positions it serves
  for (const m of matching) if (m.row_id) servedBy.set(m.row_id, [...(servedBy.get(m.row_id) || []), m.position]);
  const head = el(
    "thead",
    {},
    el(
      "tr",
      {},
      columns.map((c) => el("th", { scope: "col", text: c })),
      ["↑ up", "↓ down", "score", "status", "template", "final", "history"].map((t) => el("th", { scope: "col", text: t })),
    ),
  );
  const body = el(
    "tbody",
    {},
    rows.map((r) =>
      el(
        "tr",
        { class: `status-${r.status}`, dataset: { rowId: r.row_id, status: r.status } },
        columns.map((c) => el("td", { text: r.values && c in r.values ? formatValue(r.values[c]) : "" })),
        el("td", { class: "num up", text: r.up }),
        el("td", { class: "num down", text: r.down }),
        el("td", { class: "num score", text: r.score }),
        el("td", { class: "status-cell", text: r.status }),
        el("td", { class: "serves", text: (servedBy.get(r.row_id) || []).map((p) => `T${p + 1}`).join(", ") }),
        el("td", { class: "final", text: r.final ? "✓" : "" }),
        el("td", {}, el("button", {
          type: "button", class: "small history", text: "show",
          attrs: { "aria-label": `history of row ${r.row_id}` },
          on: { click: () => showRowHistory($("row-history"), tableId, r.row_id, columns) },
        })),
      ),
    ),
  );
  if (!rows.length) body.append(el("tr", {}, el("td", { class: "muted", colSpan: columns.length + 7, text: "No candidate rows yet." })));
  replaceChildren($("candidates"), head, body);
}

function drawMatching(matching, rows) {
  const byId = new Map(rows.map((r) => [r.row_id, r]));
  const head = el(
    "thead",
    {},
    el("tr", {}, el("th", { scope: "col", text: "template row" }), columns.map((c) => el("th", { scope: "col", text: c })), el("th", { scope: "col", text: "served by" })),
  );
  const body = el(
    "tbody",
    {},
    matching.map((m) => {
      const row = m.row_id ? byId.get(m.row_id) : null;
      let served;
      if (m.row_id) {
        const shown = row ? columns.filter((c) => c in row.values).map((c) => formatValue(row.values[c])).join(" · ") : "";
        served = el(
          "td",
          { class: m.final ? "match-ok" : "" },
          `${m.final ? "final row" : "probable row"} `,
          el("code", { class: "rowid", text: m.row_id }),
          shown ? ` (${shown})` : " (empty row)",
        );
      } else if (m.waiting_for_votes) {
        served = el("td", { class: "match-waiting", text: "waiting for votes" });
      } else {
        served = el("td", { class: "match-none", text: "unmatched" });
      }
      return el(
        "tr",
        { dataset: { position: m.position, matched: m.row_id ? "yes" : m.waiting_for_votes ? "waiting" : "no" } },
        el("th", { scope: "row", text: `T${m.position + 1}` }),
        columns.map((c) => el("td", { text: m.values && c in m.values ? formatValue(m.values[c]) : "" })),
        served,
      );
    }),
  );
  if (!matching.length) body.append(el("tr", {}, el("td", { class: "muted", colSpan: columns.length + 2, text: "The template is empty." })));
  replaceChildren($("matching"), head, body);
}

function drawWorkers(workers, fooled, { model = true, paid = false } = {}) {
  // "fooled the model": final rows a worker wrote whose value the model in the loop got wrong.
  const byWorker = fooled.by_worker || {};
  $("fooled-total").textContent = String(fooled.total ?? 0);
  const bonus = fooledBonus(fooled);
  // Settled, the pay is what was paid; without a model in the loop there is nothing to fool.
  const head = el("thead", {}, el("tr", {}, ["worker", "online", "actions", paid ? "pay" : "estimated pay", model ? "fooled the model" : null, ""].filter((t) => t !== null).map((t) => el("th", { scope: "col", text: t }))));
  const body = el(
    "tbody",
    {},
    workers.map((w) =>
      el(
        "tr",
        { dataset: { workerId: w.worker_id } },
        el("td", { text: w.worker_id }),
        el("td", { text: w.online ? `● online${w.sessions > 1 ? ` (${w.sessions})` : ""}` : "offline", class: w.online ? "match-ok" : "muted" }),
        el("td", { class: "num", text: w.ops ?? "" }),
        el("td", { class: "num", text: formatCents(w.estimated_cents) }),
        model ? el("td", { class: "num fooled", text: String(byWorker[w.worker_id] ?? 0) + bonus.of(w.worker_id) }) : null,
        el("td", { text: w.blocked ? "blocked" : "" }),
      ),
    ),
  );
  if (!workers.length) body.append(el("tr", {}, el("td", { class: "muted", colSpan: model ? 6 : 5, text: "No workers have joined yet." })));
  replaceChildren($("workers"), head, body);
}

function fooledBonus(fooled) {
  // A requester-set share of the budget paid for rows that fooled the model (docs/model-in-the-loop.md).
  const share = fooled.bonus_share || 0;
  $("fooled-bonus-stat").hidden = !share;
  if (share) $("fooled-bonus").textContent = `${formatCents(fooled.bonus_pool_cents)} (${Math.round(share * 100)}% of the budget)`;
  const cents = fooled.bonus_cents || {};
  return { of: (worker) => (share && cents[worker] ? ` (+${formatCents(cents[worker])} bonus)` : "") };
}

function drawSpend(spend, table) {
  const budget = spend.budget_cents ?? table.budget_cents;
  const used = spend.paid_cents ?? spend.estimated_cents;
  const label = spend.paid_cents !== null && spend.paid_cents !== undefined ? "paid" : "estimated";
  // After settlement the figure is what was paid, and the label says so.
  $("spend-label").textContent = label === "paid" ? "Paid / budget" : "Spend (estimated) / budget";
  $("spend").textContent = `${formatCents(used)} / ${formatCents(budget)}`;
  $("spend").title = `${label} spend against the budget`;
  const share = budget > 0 && typeof used === "number" ? Math.min(100, (100 * used) / budget) : 0;
  $("spend-bar").style.width = `${share.toFixed(1)}%`;
}

/** The model in the loop, if the table has one: its name and how its calls went (text only). */
function drawModel(model) {
  const box = $("model-status");
  // A table without a model in the loop has no use for its two figures: they only crowd a phone.
  box.closest(".stat").hidden = !model;
  $("fooled-total").closest(".stat").hidden = !model;
  if (!model) {
    box.textContent = "none";
    return;
  }
  const problems = model.timeouts + model.failures;
  box.textContent = `${model.name}: ${model.answers} answers of ${model.calls} calls` + (problems ? `, ${model.timeouts} timed out, ${model.failures} failed` : "");
  box.title = model.last_error ? `last problem: ${model.last_error}` : "";
  box.dataset.state = problems && model.last_error ? "troubled" : "ok";
}
