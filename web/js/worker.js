// The worker page: connects to the table's live session, shows the shared table, sends fills and
// votes. Own actions show at once (optimistic) and are rolled back with the server's reason if
// refused. The page keeps a confirmed replica (what the server accepted) and draws it with the
// still-pending actions on top, so a refusal or a reconnect never leaves a half-applied state.

import { api } from "./api.js";
import { announce, formatCents, notice, setConnection } from "./dom.js";
import { parseCell } from "./cells.js";
import { arrivalFrom, prolificCompletionUrl, sessionToken, submitToMturk } from "./market.js";
import { Replica, SeqTracker, subsetOf } from "./replica.js";
import { showStanding } from "./standing.js";
import { WorkerTableView } from "./worker-view.js";
import { RowTools } from "./row-tools.js";
import { screenWorker } from "./worker-screening.js";
import { liveTransports } from "./transport.js";

const ACK_TIMEOUT_MS = 15_000;
const CLOSED_STATUSES = new Set(["draft", "closed", "complete"]);

const $ = (id) => document.getElementById(id);
const tableId = decodeURIComponent(location.pathname.split("/").filter(Boolean)[1] || "");
const arrival = arrivalFrom(location.search);

const state = {
  info: null, // public table info or the snapshot's table
  columns: [],
  template: [],
  confirmed: new Replica([]),
  pending: [], // [{type, payload, op, oldValues?, raw?, status: "sent"|"unsure", resent}]
  seq: new SeqTracker(),
  // The server run the seq belongs to (the snapshot's `incarnation`), sent back with it on
  // reconnect: after a restart that lost operations this page saw, the server sends a snapshot.
  incarnation: null,
  status: "unknown",
  complete: null, // the "complete" payload once collection ended
  accepted: 0, // this worker's accepted actions in this page's life (sent to MTurk as an answer)
  socket: null,
  stopped: false, // the session was refused or ended by the server: nothing can be sent any more
};

const view = new WorkerTableView($("table"), { onFill, onVote, onUndo });
const tools = new RowTools($("row-tools"), () => render());
const toasts = $("toasts");

// ---------------------------------------------------------------- start-up
start().catch((error) => fatal(error.message || String(error)));

async function start() {
  if (!tableId) return fatal("This link does not name a table.");
  setConnection("connecting", "Connecting…");
  try {
    // A preview has no socket session, so it asks for the rows here; a joining worker gets them in the snapshot.
    const query = arrival.preview ? "?rows=true" : "";
    showTable(await api("GET", `/api/tables/${encodeURIComponent(tableId)}/public${query}`, { auth: false }));
  } catch (error) {
    if (error.status === 404) return fatal("This table does not exist or has not been launched yet (check the link).");
    // The socket snapshot carries the same information; keep going.
  }
  setupSubmit();
  if (arrival.preview) {
    notice("Preview: this is the table you would work on. Accept the HIT to fill cells and vote.", "info");
    setConnection("preview", "Preview");
    setReadOnly();
    return;
  }
  if (arrival.platform === "manual" && !arrival.token) return fatal("This link has no worker token. Ask the requester for your personal link.");
  const token = await sessionToken(tableId, arrival);
  if (!(await screenWorker(tableId, token, hideWork))) return setConnection("offline", "Not admitted");
  connect(token);
}

function connect(token) {
  // `auth` is a function so that every reconnection sends the last sequence number seen by then.
  const socket = window.io("/worker", {
    auth: (cb) => cb(state.seq.last > 0 ? resumeAuth(token) : { token }),
    ...liveTransports(),
  });
  state.socket = socket;
  socket.on("connect", () => {
    setConnection("online", "Live");
    // If the server had nothing to send after a reconnect, settle unsure actions anyway.
    setTimeout(resolveUnsure, 1500);
  });
  socket.on("disconnect", (reason) => {
    if (state.stopped || reason === "io client disconnect") {
      setConnection("offline", "Disconnected");
      return;
    }
    setConnection("offline", "Reconnecting…");
    // Socket.IO retries by itself after network failures, but not after the server closed the
    // session (e.g. while it restarts); a kick is announced first and sets `stopped`.
    if (reason === "io server disconnect") setTimeout(() => state.stopped || socket.connect(), 1000);
  });
  socket.on("connect_error", (error) => {
    const message = (error.data && (error.data.message || (error.data.error && error.data.error.message))) || error.message;
    if (!socket.active) {
      // The server refused this session (bad or revoked token): retrying cannot help.
      setConnection("offline", "Refused");
      fatal(`The server refused this link: ${message}`);
    } else {
      setConnection("offline", "Reconnecting…");
    }
  });
  socket.io.on("reconnect_attempt", () => setConnection("connecting", "Reconnecting…"));
  socket.on("snapshot", onSnapshot);
  socket.on("op", (message) => {
    state.seq.note(message.seq);
    if (state.confirmed.apply(message.op)) scheduleRender();
  });
  // `ops` is either a replay after a reconnect (it has `from_seq`) or a live batch: the
  // forwards of one server turn in one frame (docs/protocol.md).
  socket.on("ops", (message) => {
    if (message.incarnation) state.incarnation = message.incarnation;
    for (const item of message.ops || []) {
      const op = item.op || item;
      state.seq.note(item.seq ?? op.seq);
      state.confirmed.apply(op);
    }
    if (message.from_seq !== undefined) resolveUnsure();
    scheduleRender();
  });
  socket.on("estimate", showEstimate);
  socket.on("standing", showStanding);
  socket.on("complete", onComplete);
  socket.on("kicked", (message) => {
    // The requester revoked this link or blocked this worker; the server disconnects next.
    fatal(`You were disconnected: ${errorText(message)}`);
    socket.disconnect();
    setConnection("offline", "Disconnected");
  });
}

function resumeAuth(token) {
  // max_seq: ops may have arrived past a gap; the server must know everything the page holds.
  const auth = { token, last_seq: state.seq.last, max_seq: state.seq.max() };
  if (state.incarnation) auth.incarnation = state.incarnation;
  return auth;
}

function onSnapshot(snapshot) {
  if (snapshot.table) showTable({ ...(state.info || {}), ...snapshot.table });
  state.confirmed = new Replica(state.columns.map((c) => c.name));
  state.confirmed.me = snapshot.worker_id ?? null;
  state.confirmed.load(snapshot.rows || [], snapshot.my_votes || [], snapshot.my_retracted || []);
  for (const annotation of snapshot.annotations || []) state.confirmed.apply(annotation);
  state.seq.reset(snapshot.seq);
  state.incarnation = snapshot.incarnation ?? null;
  if (snapshot.estimate) showEstimate(snapshot.estimate);
  showStanding(snapshot.standing);
  if (snapshot.worker_id) $("who").textContent = `Worker ${snapshot.worker_id}`;
  resolveUnsure();
  render();
}

// ---------------------------------------------------------------- table info and status
function showTable(info) {
  state.info = info;
  document.title = `${info.name || "CrowdFill"} · CrowdFill`;
  $("table-name").textContent = info.name || "CrowdFill";
  $("instructions-text").textContent = info.instructions || "Fill in what you know and vote on others' rows.";
  const schema = info.schema || {};
  const columns = (schema.columns || []).map((c) => ({ ...c, name: c.name, type: c.type || "text", domain: c.domain || null }));
  if (columns.length && JSON.stringify(columns) !== JSON.stringify(state.columns)) {
    state.columns = columns;
    state.confirmed.columns = columns.map((c) => c.name);
    view.setColumns(columns);
    tools.setColumns(columns);
  }
  // Template rows are plain column -> value objects (a column may itself be called "values").
  if (Array.isArray(info.template)) state.template = info.template.map((t) => ({ ...t }));
  if (info.status) setStatus(info.status);
  if (Array.isArray(info.rows) && !state.socket) {
    // A preview shows the table as it stands (the server sends the rows when asked with ?rows=true).
    state.confirmed.load(info.rows, []);
    render();
  }
}

function setStatus(status) {
  state.status = status;
  setReadOnly();
  if (CLOSED_STATUSES.has(status) && !state.complete) {
    notice(status === "draft" ? "This table has not been launched yet." : "Collection has ended; the table is read-only.", "info");
  }
}

function setReadOnly() {
  const readOnly = arrival.preview || state.stopped || Boolean(state.complete) || CLOSED_STATUSES.has(state.status);
  view.setReadOnly(readOnly);
  $("table").classList.toggle("read-only", readOnly);
  render();
}

function showEstimate(estimate) {
  view.renderHead(estimate);
  $("pay-total").textContent = formatCents(estimate.total);
}

// ---------------------------------------------------------------- drawing
let renderQueued = false;
function scheduleRender() {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    render();
  });
}

function currentView() {
  const draft = state.confirmed.clone();
  for (const entry of state.pending) draft.apply(entry.op, true);
  return draft;
}

function render() {
  const shown = currentView();
  const pendingIds = new Set(state.pending.filter((e) => e.type === "fill").map((e) => e.op.new_row_id));
  const finalIds = new Set(((state.complete && state.complete.final) || []).map((r) => r.row_id));
  // The view sees the rows in the order the worker chose; everything else is the replica's.
  const ordered = new Proxy(shown, {
    get(target, name) {
      if (name === "liveRows") return () => tools.order(target.liveRows());
      const value = target[name];
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  view.render(ordered, pendingIds, isProtected, finalIds);
  tools.apply(shown.liveRows(), view.trs, shown);
  $("empty-note").hidden = shown.order.length > 0;
}

/** The template's own values cannot be downvoted (DESIGN §2); the server refuses it anyway. */
function isProtected(values) {
  return Object.keys(values).length > 0 && state.template.some((t) => subsetOf(values, t));
}

// ---------------------------------------------------------------- actions
function newRowId() {
  // crypto.randomUUID needs a secure context; workers may reach the server over plain http.
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return `w-${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

function onFill(rowId, columnName, raw, editor) {
  const column = state.columns.find((c) => c.name === columnName);
  const parsed = parseCell(column, raw);
  if (parsed.error) {
    view.restoreDraft(rowId, columnName, raw, parsed.error);
    announce(toasts, parsed.error, "error");
    editor.focus();
    return;
  }
  const shown = currentView();
  const oldValues = shown.rows.get(rowId);
  if (!oldValues) return;
  const values = { ...oldValues, [columnName]: parsed.value };
  const newId = newRowId();
  const op = {
    type: "fill",
    row_id: rowId,
    new_row_id: newId,
    column: columnName,
    value: parsed.value,
    values,
    // The fill that completes a row upvotes it for the filler, unless they already count there.
    upvote: shown.isComplete(values) && shown.myVoteOn(values) === null,
  };
  view.forgetDraft(rowId, columnName);
  view.focusNext = { rowId: newId, afterColumn: columnName };
  // seen_seq: what this page had seen when the worker typed. The server duplicates the row for a
  // fill that raced a replacement the page had not seen yet, and refuses one on a row it had seen
  // replaced (row_replaced). A resend after a lost ack keeps it: it is the same action.
  const payload = { row_id: rowId, new_row_id: newId, column: columnName, value: parsed.value, seen_seq: state.seq.last };
  send({ type: "fill", payload, op, oldValues, raw });
}

function onVote(kind, rowId) {
  const values = currentView().rows.get(rowId);
  if (!values) return;
  const type = kind === "up" ? "upvote" : "downvote";
  send({ type, payload: { row_id: rowId, seen_seq: state.seq.last }, op: { type, row_id: rowId, values } });
}

/** Take back this worker's own vote on the row (a mis-click); applied at once like any action. */
function onUndo(rowId) {
  const shown = currentView();
  const values = shown.rows.get(rowId);
  const vote = values && shown.undoableVoteOn(rowId, values);
  if (!vote) return;
  const op = { type: "retract", row_id: vote.rowId, values: vote.values, kind: vote.kind };
  send({ type: "retract", payload: { row_id: vote.rowId }, op });
}

function send(entry) {
  if (!state.pending.includes(entry)) state.pending.push(entry);
  entry.status = "sent";
  render();
  // With a timeout the ack also fires (with an error) when the connection drops before it arrives.
  state.socket.timeout(ACK_TIMEOUT_MS).emit(entry.type, entry.payload, (error, ack) => onAck(entry, error, ack));
}

function onAck(entry, error, ack) {
  if (!state.pending.includes(entry)) return;
  if (error) {
    // Unknown outcome: the server may or may not have applied it. Settle it after catching up.
    entry.status = "unsure";
    if (state.socket.connected) resolveUnsure();
    return;
  }
  state.pending.splice(state.pending.indexOf(entry), 1);
  if (ack && ack.ok) {
    state.seq.note(ack.seq);
    state.confirmed.apply(ack.op || entry.op, true);
    state.accepted += 1;
  } else if (entry.resent && ["duplicate_row_id", "duplicate_vote", "no_vote_to_retract"].includes(ack?.error?.code)) {
    // A resend after a lost ack: the first attempt had been accepted.
    state.confirmed.apply(entry.op, true);
  } else {
    rollBack(entry, (ack && ack.error) || { code: "refused", message: "the server refused this action" });
  }
  render();
}

function rollBack(entry, error) {
  const what =
    entry.type === "fill"
      ? `Your ${entry.payload.column} value was not saved`
      : entry.type === "retract"
        ? "Your undo was not applied"
        : `Your ${entry.type} was not counted`;
  announce(toasts, `${what}: ${error.message}`, "error");
  // Refused because the row had been replaced: the text goes back into the row that holds its values now.
  const rowId =
    entry.type === "fill" && error.code === "row_replaced"
      ? state.confirmed.successor(error.replaced_by || entry.payload.row_id)
      : entry.payload.row_id;
  if (entry.type === "fill" && rowId && state.confirmed.rows.has(rowId)) {
    // Give the worker their text back in the cell they typed it in, marked with the reason.
    view.focusNext = null;
    view.restoreDraft(rowId, entry.payload.column, entry.raw, error.message);
    requestAnimationFrame(() => {
      const editor = view.restoreDraft(rowId, entry.payload.column, entry.raw, error.message);
      if (editor && !document.activeElement?.classList.contains("cell-editor")) editor.focus();
    });
  }
}

/** After (re)connecting and catching up, settle actions whose acknowledgement was lost. */
function resolveUnsure() {
  if (!state.socket || !state.socket.connected) return;
  for (const entry of state.pending.filter((e) => e.status === "unsure")) {
    const done =
      entry.type === "fill"
        ? state.confirmed.added.has(entry.op.new_row_id)
        : entry.type === "retract"
          ? state.confirmed.retracted(entry.op.kind, entry.op.values)
          : state.confirmed.myVoteOn(entry.op.values) === (entry.type === "upvote" ? "up" : "down");
    if (done) {
      state.pending.splice(state.pending.indexOf(entry), 1);
      state.accepted += 1;
    } else {
      entry.resent = true;
      send(entry);
    }
  }
  render();
}

// ---------------------------------------------------------------- completion and hand-back
function onComplete(message) {
  state.complete = message || {};
  if (Array.isArray(state.complete.final)) {
    // Rows of the final table are kept visible even if this replica missed their last operation.
    for (const row of state.complete.final) if (row.row_id && !state.confirmed.knows(row.row_id)) state.confirmed.apply({ type: "insert", row_id: row.row_id, values: row.values });
  }
  setReadOnly();
  const pay = typeof state.complete.pay_cents === "number" ? ` Your pay: ${formatCents(state.complete.pay_cents)}.` : "";
  const ended = state.complete.status === "closed" ? "The requester has closed collection." : "Collection is complete.";
  notice(`${ended} Thank you!${pay}`, "success");
  if (typeof state.complete.pay_cents === "number") $("pay-total").textContent = formatCents(state.complete.pay_cents);
  $("pay-label").textContent = "Your pay";
  const submit = $("submit");
  if (!submit.hidden) submit.focus();
}

function setupSubmit() {
  const submit = $("submit");
  const area = $("submit-area");
  if (arrival.platform === "mturk") {
    area.hidden = false;
    submit.textContent = "Submit HIT";
    if (arrival.preview || !arrival.turkSubmitTo) {
      submit.disabled = true;
      $("submit-note").textContent = arrival.preview ? "Accept the HIT to work on this table and submit." : "This link has no turkSubmitTo address.";
    } else {
      $("submit-note").textContent = "Submit when you are done; your pay is settled when the table is complete.";
    }
    submit.addEventListener("click", () => {
      submit.disabled = true;
      submitToMturk(arrival, {
        table_id: tableId,
        worker_id: arrival.workerId,
        actions: state.accepted,
        pay_cents: state.complete && typeof state.complete.pay_cents === "number" ? state.complete.pay_cents : "",
      });
    });
  } else if (arrival.platform === "prolific") {
    area.hidden = false;
    submit.textContent = "Finish and return to Prolific";
    $("submit-note").textContent = "Finish when you are done; your pay is settled when the table is complete.";
    submit.addEventListener("click", () => {
      const url = state.info && prolificCompletionUrl(state.info);
      if (!url) {
        announce(toasts, "This study has no completion link yet; please contact the researcher.", "error");
        return;
      }
      location.assign(url);
    });
  }
}

// ---------------------------------------------------------------- status line and notices
/** Hide the table while the qualification is shown (the worker does not see it before passing). */
function hideWork(hidden) {
  for (const selector of [".table-wrap", "#row-tools"]) {
    const node = document.querySelector(selector);
    if (node) node.hidden = hidden;
  }
}

function fatal(text) {
  state.stopped = true;
  notice(text, "error");
  setReadOnly();
}

function errorText(message) {
  return (message && (message.message || (message.error && message.error.message))) || "the server reported an error";
}
