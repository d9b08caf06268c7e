// The requester home: the list of tables, the Table Schema Editor, scoring and budget, the
// Constraint (template) Editor, launch / close, worker links and exports.
// The editor is driven by a plain model object: typing updates the model, structural changes
// (a column added, a type changed) redraw the editor, and focus is put back where it was.

import { ApiError, api, requesterToken, setRequesterToken } from "./api.js";
import { announce, el, formatValue, notice, replaceChildren } from "./dom.js";
import { parseCell } from "./cells.js";
import { recruitPanel, resultsPanel } from "./requester-panels.js";
import { webhooksPanel } from "./requester-webhooks.js";
import { goldPanel } from "./requester-gold.js";
import { rulesEditor, rulesFrom, rulesModel } from "./rules-editor.js";
import { helpEditor, helpFrom, helpModel } from "./column-help.js";
import { deleteDraftButton } from "./draft-delete.js";

const $ = (id) => document.getElementById(id);
// The editor is long: a requester notice scrolls into view, or it could appear unseen above the form.
const showNotice = (text, kind) => notice(text, kind, { scroll: true });
const toasts = $("toasts");
const TYPES = ["text", "integer", "number", "boolean", "date"];
const FAMILIES = {
  reputation: "reputation: up − down over the voters' weights, from their estimated reliability (the default)",
  threshold: "threshold: up − down, counted once enough votes agree (the paper's)",
  difference: "difference: up − down",
  majority: "majority: +1 / −1 by the majority, once enough votes agree",
  weighted: "weighted: up × weight − down × weight",
};
// The server's vote gate for a family when the definition leaves min_votes out (docs/protocol.md).
const DEFAULT_MIN_VOTES = { reputation: 3, threshold: 2, difference: 2, majority: 2, weighted: 2 };
const DEFAULT_SCORING = { family: "reputation", min_votes: 3, up_weight: 1, down_weight: 1 };

let tables = [];
let current = null; // the server's table object, or null for a table not saved yet
let model = null; // the editor's model (see emptyModel)
let dirty = false;
let uidCounter = 0;
const uid = () => `u${++uidCounter}`;

// ---------------------------------------------------------------- start-up and token
$("change-token").addEventListener("click", () => askForToken());
$("new-table").addEventListener("click", () => openTable(null));
if (requesterToken()) start();
else askForToken();

function askForToken(message) {
  $("app").hidden = true;
  $("change-token").hidden = true;
  const form = $("token-form");
  form.hidden = false;
  if (message) showNotice(message, "error");
  $("token-input").value = "";
  $("token-input").focus();
  form.onsubmit = (event) => {
    event.preventDefault();
    setRequesterToken($("token-input").value);
    form.hidden = true;
    start();
  };
}

async function start() {
  $("notice").hidden = true;
  try {
    await refreshList();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return askForToken("The requester token was not accepted.");
    return showNotice(`Cannot load tables: ${error.message}`, "error");
  }
  $("app").hidden = false;
  $("change-token").hidden = false;
  const wanted = new URLSearchParams(location.hash.slice(1)).get("table");
  const found = tables.find((t) => t.id === wanted);
  // A returning requester sees their tables first, not an empty "New table" form.
  if (found || !tables.length) openTable(found || null);
  else showOverview();
  // Status, row counts and workers change while collection runs.
  setInterval(() => refreshList().catch(() => {}), 5000);
}

async function refreshList() {
  const answer = await api("GET", "/api/tables");
  tables = answer.tables || [];
  if (current) {
    const fresh = tables.find((t) => t.id === current.id);
    if (fresh && (fresh.status !== current.status || fresh.updated_at !== current.updated_at)) {
      const statusChanged = fresh.status !== current.status;
      current = fresh;
      if (statusChanged && !dirty) openTable(fresh);
      else drawHeader();
    } else if (fresh) {
      current = fresh;
      drawHeader();
    }
  }
  drawList();
}

function drawList() {
  const list = $("table-list");
  replaceChildren(
    list,
    tables.map((t) =>
      el(
        "li",
        {},
        el(
          "button",
          {
            type: "button",
            class: "pick",
            attrs: { "aria-current": current && current.id === t.id ? "true" : "false" },
            on: { click: () => openTable(t) },
          },
          el("span", { text: t.definition?.name || t.id }),
        ),
        el("span", { class: `badge ${t.status}`, text: t.status }),
      ),
    ),
  );
  if (!tables.length) list.append(el("li", { class: "muted", text: "No tables yet." }));
}

/** Every table at a glance, with what to do next; shown when no table is picked. */
function showOverview() {
  current = null;
  model = null;
  dirty = false;
  history.replaceState(null, "", location.pathname);
  drawList();
  const rows = tables.map((t) =>
    el("tr", { dataset: { tableId: t.id } },
      el("td", {}, el("button", { type: "button", class: "pick-link", text: t.definition?.name || t.id, on: { click: () => openTable(t) } })),
      el("td", {}, el("span", { class: `badge ${t.status}`, text: t.status })),
      el("td", { class: "num", text: t.rows ?? 0 }),
      el("td", { class: "num", text: `${t.workers_online ?? 0}/${t.workers ?? 0}` }),
      el("td", {}, t.status === "draft" ? el("span", { class: "muted", text: "not launched" }) : el("a", { href: `/tables/${encodeURIComponent(t.id)}/monitor`, text: "monitor", attrs: { target: "_blank", rel: "noopener" } })),
    ));
  replaceChildren(
    $("editor"),
    el("section", { id: "overview", attrs: { "aria-labelledby": "overview-title" } },
      el("h2", { id: "overview-title", text: "Your tables" }),
      el("div", { class: "table-wrap" }, el("table", { class: "data" },
        el("thead", {}, el("tr", {}, ["table", "status", "rows", "workers online", ""].map((t) => el("th", { scope: "col", text: t })))),
        el("tbody", {}, rows))),
      el("p", { class: "muted", text: "Pick a table to edit it, see its links and exports, or start one with New table." }),
    ),
  );
}

// ---------------------------------------------------------------- model <-> definition
function emptyModel() {
  return {
    name: "",
    instructions: "",
    columns: [{ uid: uid(), name: "", type: "text", domain: "", key: false }],
    scoring: { ...DEFAULT_SCORING },
    budget: "10.00",
    prolific: "",
    template: [],
  };
}

function modelFrom(definition) {
  const keys = new Set(definition.schema?.key || []);
  const columns = (definition.schema?.columns || []).map((c) => ({
    uid: uid(),
    name: c.name,
    type: c.type || "text",
    domain: c.domain ? c.domain.map(formatValue).join(", ") : "",
    key: keys.has(c.name),
    ...rulesModel(c),
    ...helpModel(c),
  }));
  return {
    name: definition.name || "",
    instructions: definition.instructions || "",
    columns,
    scoring: { ...DEFAULT_SCORING, ...(definition.scoring || {}) },
    budget: ((definition.budget_cents || 0) / 100).toFixed(2),
    prolific: definition.prolific_completion_code || "",
    template: (definition.template || []).map((row) => {
      const cells = { uid: uid() };
      for (const c of columns) if (c.name in row) cells[c.uid] = formatValue(row[c.name]);
      return cells;
    }),
  };
}

class EditorError extends Error {}

/** Turn a comma-separated domain into typed values. */
function parseDomain(column) {
  const items = column.domain.split(",").map((s) => s.trim()).filter(Boolean);
  if (!items.length) return null;
  return items.map((item) => {
    const parsed = parseCell({ name: column.name, type: column.type }, item);
    if (parsed.error) throw new EditorError(`domain of column "${column.name}": ${parsed.error} (got "${item}")`);
    return parsed.value;
  });
}

function definitionFrom(m) {
  if (!m.name.trim()) throw new EditorError("give the table a name");
  const names = m.columns.map((c) => c.name.trim());
  if (!names.length) throw new EditorError("add at least one column");
  if (names.some((n) => !n)) throw new EditorError("every column needs a name");
  if (new Set(names).size !== names.length) throw new EditorError("column names must be different");
  const columns = m.columns.map((c) => {
    const domain = parseDomain(c);
    const rules = { ...rulesFrom(c, (message) => new EditorError(message)), ...helpFrom(c) };
    return domain ? { name: c.name.trim(), type: c.type, domain, ...rules } : { name: c.name.trim(), type: c.type, ...rules };
  });
  const key = m.columns.filter((c) => c.key).map((c) => c.name.trim());
  const scoring = { family: m.scoring.family };
  if (m.scoring.family !== "difference") scoring.min_votes = Number(m.scoring.min_votes);
  if (m.scoring.family === "weighted") {
    scoring.up_weight = Number(m.scoring.up_weight);
    scoring.down_weight = Number(m.scoring.down_weight);
  }
  const budgetText = String(m.budget).trim().replace(/^\$/, "");
  const dollars = Number(budgetText);
  if (!budgetText || !Number.isFinite(dollars) || dollars < 0) throw new EditorError("the budget must be an amount in dollars, e.g. 10.00");
  // Money is kept in whole cents: 1.005 would silently become 1.00 (or 1.01), so it is refused.
  if (!/^\d*(\.\d{0,2})?$/.test(budgetText)) throw new EditorError(`the budget must be in whole cents, at most two decimals (got ${budgetText})`);
  const template = m.template.map((row, i) => {
    const values = {};
    m.columns.forEach((c, k) => {
      const raw = row[c.uid];
      if (raw === undefined || raw === "") return;
      // The template's cells hold typed text, not domain indices; the column's rules apply to them.
      const parsed = parseCell({ ...columns[k], domain: null }, raw);
      if (parsed.error) throw new EditorError(`template row ${i + 1}: ${parsed.error}`);
      values[columns[k].name] = parsed.value;
    });
    return values;
  });
  const definition = {
    name: m.name.trim(),
    instructions: m.instructions,
    schema: key.length ? { columns, key } : { columns },
    scoring,
    template,
    budget_cents: Math.round(dollars * 100),
  };
  if (m.prolific.trim()) definition.prolific_completion_code = m.prolific.trim();
  return definition;
}

// ---------------------------------------------------------------- the editor
function openTable(table) {
  current = table;
  model = table ? modelFrom(table.definition || {}) : emptyModel();
  dirty = false;
  history.replaceState(null, "", table ? `#table=${encodeURIComponent(table.id)}` : location.pathname);
  drawList();
  drawEditor();
}

const editable = () => !current || current.status === "draft";

function change(mutator, redraw = false) {
  mutator();
  dirty = true;
  if (redraw) drawEditor();
  drawHeader();
}

function drawEditor() {
  // Redrawing replaces the inputs; put the caret back in the same field afterwards.
  const focusKey = document.activeElement?.dataset?.focusKey;
  replaceChildren(
    $("editor"),
    el("section", { id: "editor-header", attrs: { "aria-live": "polite" } }),
    schemaEditor(),
    scoringEditor(),
    templateEditor(),
    current ? recruitPanel(current, showNotice) : null,
    current ? resultsPanel(current, model.name, showNotice) : null,
    current ? webhooksPanel(current, showNotice) : null,
    current ? goldPanel(current, showNotice) : null,
  );
  drawHeader();
  if (focusKey) document.querySelector(`[data-focus-key="${focusKey}"]`)?.focus();
}

function drawHeader() {
  const header = $("editor-header");
  if (!header) return;
  const status = current ? current.status : "new";
  const buttons = [];
  if (editable()) buttons.push(el("button", { type: "button", id: "save", class: dirty || !current ? "primary" : "", text: current ? "Save changes" : "Create table", on: { click: save } }));
  if (current && current.status === "draft") buttons.push(el("button", { type: "button", id: "launch", class: "primary", text: "Launch", on: { click: launch } }));
  if (current && current.status === "live") buttons.push(closeButton());
  if (current && current.status === "draft") buttons.push(deleteDraftButton(current, { notice: showNotice, onDeleted: afterDelete }));
  if (current) buttons.push(el("button", { type: "button", id: "duplicate", text: "Duplicate", attrs: { title: "A new draft with this table's definition" }, on: { click: duplicate } }));
  if (current) buttons.push(el("a", { href: `/tables/${encodeURIComponent(current.id)}/monitor`, id: "monitor-link", text: "Open data monitor", attrs: { target: "_blank", rel: "noopener" } }));
  const facts = current
    ? `${current.rows ?? 0} rows · ${current.final_rows ?? 0} final · ${current.workers_online ?? 0}/${current.workers ?? 0} workers online${current.satisfied ? " · template satisfied" : ""}`
    : "Not saved yet.";
  replaceChildren(
    header,
    el("h2", {}, current ? model.name || current.id : "New table", " ", el("span", { class: `badge ${status}`, id: "status-badge", text: status })),
    el("p", { class: "muted", text: facts }),
    dirty && current ? el("p", { class: "muted", text: "Unsaved changes." }) : null,
    el("div", { class: "actions" }, buttons),
    checklist(),
  );
}

/** The steps from an empty form to a running collection, each ticked when it is done. */
function checklist() {
  const named = model.name.trim() && model.columns.length && model.columns.every((c) => c.name.trim());
  const budget = Number(String(model.budget).replace(/^\$/, ""));
  const launched = current && current.status !== "draft";
  const steps = [
    ["schema", "Name the table and its columns", named, "Table Schema Editor"],
    ["template", "Add template rows (the rows the final table must contain)", model.template.length > 0, "Constraint Editor"],
    ["budget", "Set the budget", Number.isFinite(budget) && budget > 0, "Scoring and budget"],
    ["saved", "Save the table", current && !dirty, "Create table / Save changes"],
    ["launch", "Launch (locks the definition)", launched, "Launch"],
    ["links", "Send workers their links (a worker has joined)", launched && (current.workers ?? 0) > 0, "Workers"],
  ];
  return el("ol", { class: "checklist", id: "checklist", attrs: { "aria-label": "Steps to a running collection" } },
    steps.map(([key, text, done, where]) =>
      el("li", { class: done ? "done" : "", dataset: { step: key, done: done ? "yes" : "no" }, attrs: { title: where } },
        el("span", { class: "tick", attrs: { "aria-hidden": "true" }, text: done ? "✓" : "○" }),
        " ",
        text,
        el("span", { class: "visually-hidden", text: done ? " (done)" : " (to do)" }))));
}

function closeButton() {
  // Two clicks, so a stray click does not stop collection (and no blocking confirm() dialog).
  const button = el("button", { type: "button", id: "close", class: "danger", text: "Close collection" });
  let armed = false;
  button.addEventListener("click", async () => {
    if (!armed) {
      armed = true;
      button.textContent = "Click again to close";
      setTimeout(() => {
        armed = false;
        button.textContent = "Close collection";
      }, 5000);
      return;
    }
    await act("close", "Collection closed; workers are being settled.");
  });
  return button;
}

function input(props, onInput) {
  const node = el("input", { ...props, disabled: !editable() });
  node.addEventListener("input", () => onInput(node));
  return node;
}

function schemaEditor() {
  const columnRows = model.columns.map((c, i) => {
    const move = (delta) => change(() => {
      const [item] = model.columns.splice(i, 1);
      model.columns.splice(i + delta, 0, item);
    }, true);
    return el(
      "tr",
      { dataset: { colUid: c.uid } },
      el("td", {}, el("input", {
        type: "checkbox", checked: c.key, disabled: !editable(), dataset: { focusKey: `key-${c.uid}` },
        attrs: { "aria-label": `column ${i + 1} is part of the primary key` },
        on: { change: (e) => change(() => { c.key = e.target.checked; }) },
      })),
      el("td", { class: "col-name-cell" }, input({ type: "text", value: c.name, class: "col-name", dataset: { focusKey: `name-${c.uid}` }, attrs: { "aria-label": `column ${i + 1} name`, placeholder: "name" } }, (n) => change(() => {
        c.name = n.value;
        // Keep the template's header in step without redrawing (which would steal focus).
        document.querySelectorAll(`[data-template-col="${c.uid}"]`).forEach((th) => { th.textContent = n.value || `column ${i + 1}`; });
      })), helpEditor(c, i, input, change)),
      el("td", {}, el("select", {
        class: "col-type", disabled: !editable(), dataset: { focusKey: `type-${c.uid}` }, attrs: { "aria-label": `column ${i + 1} type` },
        on: { change: (e) => change(() => { c.type = e.target.value; }, true) },
      }, TYPES.map((t) => el("option", { value: t, text: t, selected: t === c.type })))),
      el("td", {}, el("input", {
        type: "text", value: c.domain, class: "col-domain", disabled: !editable(), dataset: { focusKey: `domain-${c.uid}` },
        attrs: { "aria-label": `column ${i + 1} allowed values, separated by commas`, placeholder: "any value" },
        // Only the template grid depends on domains: redraw just it, so the click that moved focus
        // away from this field (e.g. on "Add column") still lands on its button.
        on: { input: (e) => change(() => { c.domain = e.target.value; }), change: () => redrawTemplate() },
      })),
      el("td", {}, rulesEditor(c, i, input, change)),
      el("td", {},
        el("button", { type: "button", class: "small", text: "↑", disabled: !editable() || i === 0, attrs: { "aria-label": `move column ${i + 1} up` }, on: { click: () => move(-1) } }),
        " ",
        el("button", { type: "button", class: "small", text: "↓", disabled: !editable() || i === model.columns.length - 1, attrs: { "aria-label": `move column ${i + 1} down` }, on: { click: () => move(1) } }),
        " ",
        el("button", { type: "button", class: "small danger", text: "✕", disabled: !editable() || model.columns.length === 1, attrs: { "aria-label": `remove column ${i + 1}` }, on: { click: () => change(() => {
          model.columns.splice(i, 1);
          for (const row of model.template) delete row[c.uid];
        }, true) } }),
      ),
    );
  });
  return el(
    "section",
    { id: "schema-editor", attrs: { "aria-labelledby": "schema-title" } },
    el("h2", { id: "schema-title", text: "Table Schema Editor" }),
    el("div", { class: "field-row" },
      el("label", {}, "Table name", input({ id: "table-name", type: "text", value: model.name, dataset: { focusKey: "table-name" } }, (n) => change(() => { model.name = n.value; }))),
    ),
    el("label", { class: "block" }, "Instructions for workers",
      el("textarea", { id: "instructions", value: model.instructions, disabled: !editable(), dataset: { focusKey: "instructions" }, on: { input: (e) => change(() => { model.instructions = e.target.value; }) } })),
    el("h3", { text: "Columns" }),
    el("table", { class: "data editor-grid", id: "columns" },
      el("thead", {}, el("tr", {}, ["key", "name · help for workers", "type", "allowed values", "rules", ""].map((t) => el("th", { scope: "col", text: t })))),
      el("tbody", {}, columnRows),
    ),
    el("p", { class: "muted", text: "Tick the columns that together identify a row (the primary key); none ticked means all columns. Help, allowed values (separated by commas) and rules are optional; workers see the help under the column's name." }),
    el("div", { class: "actions" },
      el("button", { type: "button", id: "add-column", text: "Add column", disabled: !editable(), on: { click: () => change(() => model.columns.push({ uid: uid(), name: "", type: "text", domain: "", key: false }), true) } })),
  );
}

/** A new family brings its own vote gate, unless the requester had set one of their own. */
function changeFamily(scoring, family) {
  if (Number(scoring.min_votes) === DEFAULT_MIN_VOTES[scoring.family]) scoring.min_votes = DEFAULT_MIN_VOTES[family];
  scoring.family = family;
}

function scoringEditor() {
  const s = model.scoring;
  const number = (field, label, step) =>
    el("label", {}, label, input({ type: "number", step, min: "0", value: s[field], id: `scoring-${field}`, dataset: { focusKey: `scoring-${field}` } }, (n) => change(() => { s[field] = n.value; })));
  return el(
    "section",
    { id: "scoring-editor", attrs: { "aria-labelledby": "scoring-title" } },
    el("h2", { id: "scoring-title", text: "Scoring and budget" }),
    el("div", { class: "field-row" },
      el("label", {}, "Scoring function",
        el("select", { id: "scoring-family", disabled: !editable(), dataset: { focusKey: "scoring-family" }, on: { change: (e) => change(() => { changeFamily(s, e.target.value); }, true) } },
          Object.entries(FAMILIES).map(([value, text]) => el("option", { value, text, selected: value === s.family })))),
      s.family !== "difference" ? number("min_votes", "Votes needed (upvotes to score above 0, downvotes to score below)", "1") : null,
      s.family === "weighted" ? number("up_weight", "Upvote weight", "any") : null,
      s.family === "weighted" ? number("down_weight", "Downvote weight", "any") : null,
    ),
    el("div", { class: "field-row" },
      el("label", {}, "Total budget (US$)", input({ id: "budget", type: "text", inputMode: "decimal", value: model.budget, dataset: { focusKey: "budget" } }, (n) => change(() => { model.budget = n.value; }))),
      el("label", {}, "Prolific completion code (optional)", input({ id: "prolific-code", type: "text", value: model.prolific, dataset: { focusKey: "prolific-code" } }, (n) => change(() => { model.prolific = n.value; }))),
    ),
  );
}

function templateCellEditor(column, row, r) {
  const label = `template row ${r + 1}, ${column.name || "column"}`;
  const key = `tpl-${row.uid}-${column.uid}`;
  const set = (value) => change(() => {
    if (value === "") delete row[column.uid];
    else row[column.uid] = value;
  });
  let domain = [];
  try {
    domain = parseDomain(column) || [];
  } catch {
    domain = [];
  }
  if (domain.length || column.type === "boolean") {
    const options = domain.length ? domain.map(formatValue) : ["true", "false"];
    return el("select", { disabled: !editable(), dataset: { focusKey: key }, attrs: { "aria-label": label }, on: { change: (e) => set(e.target.value) } },
      el("option", { value: "", text: "(any)" }),
      options.map((o) => el("option", { value: o, text: o, selected: row[column.uid] === o })));
  }
  return input({ type: column.type === "date" ? "date" : "text", value: row[column.uid] || "", dataset: { focusKey: key }, attrs: { "aria-label": label, placeholder: "(any)" } }, (n) => set(n.value));
}

function redrawTemplate() {
  document.getElementById("template-editor")?.replaceWith(templateEditor());
}

function templateEditor() {
  const rows = model.template.map((row, r) =>
    el("tr", { dataset: { templateRow: r } },
      el("th", { scope: "row", text: `T${r + 1}` }),
      model.columns.map((c) => el("td", {}, templateCellEditor(c, row, r))),
      el("td", {}, el("button", { type: "button", class: "small danger", text: "✕", disabled: !editable(), attrs: { "aria-label": `remove template row ${r + 1}` }, on: { click: () => change(() => model.template.splice(r, 1), true) } })),
    ));
  return el(
    "section",
    { id: "template-editor", attrs: { "aria-labelledby": "template-title" } },
    el("h2", { id: "template-title", text: "Constraint Editor (template)" }),
    el("p", { class: "muted", text: "Rows the final table must contain. Fill the values a row must have; leave cells empty for workers to find. An empty row asks for one more row of any content." }),
    el("table", { class: "data editor-grid", id: "template" },
      el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "" }), model.columns.map((c, i) => el("th", { scope: "col", dataset: { templateCol: c.uid }, text: c.name || `column ${i + 1}` })), el("th", { scope: "col", text: "" }))),
      el("tbody", {}, rows.length ? rows : el("tr", {}, el("td", { class: "muted", colSpan: model.columns.length + 2, text: "No template rows: collection will not stop by itself." }))),
    ),
    el("div", { class: "actions" },
      el("button", { type: "button", id: "add-template-row", text: "Add template row", disabled: !editable(), on: { click: () => change(() => model.template.push({ uid: uid() }), true) } })),
  );
}

// ---------------------------------------------------------------- saving, launching, closing
async function save() {
  let definition;
  try {
    definition = definitionFrom(model);
  } catch (error) {
    if (!(error instanceof EditorError)) throw error;
    showNotice(`Cannot save: ${error.message}.`, "error");
    return false;
  }
  try {
    current = current ? await api("PATCH", `/api/tables/${encodeURIComponent(current.id)}`, { body: definition }) : await api("POST", "/api/tables", { body: definition });
  } catch (error) {
    showNotice(`The server refused the table: ${error.message}`, "error");
    return false;
  }
  $("notice").hidden = true;
  announce(toasts, "Table saved.", "success", 3000);
  await refreshList();
  openTable(current);
  return true;
}

async function launch() {
  if ((dirty || !current) && !(await save())) return;
  confirmLaunch();
}

/** Launching locks the definition: say exactly what, and launch only on an explicit second click. */
function confirmLaunch() {
  const d = current.definition || {};
  const columns = (d.schema?.columns || []).map((c) => c.name);
  const key = d.schema?.key?.length ? d.schema.key.join(", ") : "all columns";
  const locked = [
    `the schema: ${columns.length} column${columns.length === 1 ? "" : "s"} (${columns.join(", ")}), key ${key}, their types, allowed values and rules`,
    `the scoring: ${d.scoring?.family || DEFAULT_SCORING.family}${d.scoring?.min_votes ? `, ${d.scoring.min_votes} votes needed` : ""}`,
    `the template: ${(d.template || []).length} row${(d.template || []).length === 1 ? "" : "s"}`,
    `the budget: $${((d.budget_cents || 0) / 100).toFixed(2)}`,
    "the name and the instructions for workers",
  ];
  const panel = el("div", { id: "launch-confirm", class: "notice notice-info", attrs: { role: "alertdialog", "aria-labelledby": "launch-confirm-title" } },
    el("p", {}, el("strong", { id: "launch-confirm-title", text: "Launch this table? After launch these cannot be changed:" })),
    el("ul", {}, locked.map((text) => el("li", { text }))),
    el("div", { class: "actions" },
      el("button", { type: "button", id: "launch-confirmed", class: "primary", text: "Launch and lock", on: { click: () => act("launch", "Collection is live: send workers their links.") } }),
      el("button", { type: "button", id: "launch-cancel", text: "Keep editing", on: { click: () => panel.remove() } }),
    ),
  );
  document.getElementById("launch-confirm")?.remove();
  $("editor-header").append(panel);
  panel.querySelector("#launch-confirmed").focus();
}

async function afterDelete() {
  announce(toasts, `Deleted the draft ${model?.name || current.id}.`, "success", 4000);
  await refreshList();
  if (tables.length) showOverview();
  else openTable(null);
}

async function duplicate() {
  let copy;
  try {
    copy = await api("POST", `/api/tables/${encodeURIComponent(current.id)}/duplicate`);
  } catch (error) {
    showNotice(`Cannot duplicate: ${error.message}`, "error");
    return;
  }
  announce(toasts, `Copied into a new draft: ${copy.definition?.name || copy.id}.`, "success", 4000);
  await refreshList();
  openTable(tables.find((t) => t.id === copy.id) || copy);
}

async function act(action, message) {
  try {
    current = await api("POST", `/api/tables/${encodeURIComponent(current.id)}/${action}`);
  } catch (error) {
    showNotice(`Cannot ${action}: ${error.message}`, "error");
    return;
  }
  $("notice").hidden = true;
  announce(toasts, message, "success", 4000);
  await refreshList();
  openTable(current);
}
