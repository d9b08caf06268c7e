// The worker's HTML table. Rows are immutable (a fill makes a new row id), so a <tr> is built once
// per row id and kept while the row lives: inputs a worker is typing in survive every update.
// Drafts are also kept by (row, column) so they follow a row that another worker's fill replaced.

import { el, formatCents, formatValue, replaceChildren } from "./dom.js";
import { makeEditor } from "./cells.js";
import { ruleHints } from "./rules.js";
import { helpLine } from "./column-help.js";
import { thumb } from "./icons.js";

const draftKey = (rowId, column) => `${rowId}\u0000${column}`;

export class WorkerTableView {
  /**
   * @param {HTMLTableElement} table
   * @param {{onFill(rowId, column, raw, editor): void, onVote(kind, rowId): void, onUndo(rowId): void}} handlers
   */
  constructor(table, handlers) {
    this.table = table;
    this.handlers = handlers;
    this.columns = [];
    this.readOnly = true;
    this.trs = new Map(); // row id -> <tr>
    this.drafts = new Map(); // draftKey -> raw text the worker typed and has not saved
    this.cellErrors = new Map(); // draftKey -> message of the last refusal
    this.focusNext = null; // {rowId, afterColumn} to move the caret after a save
    this.thead = el("thead");
    this.tbody = el("tbody");
    // Fixed column widths (table-layout: fixed): a long value wraps in its cell instead of
    // widening the table for everyone, and widths do not jump as values arrive.
    this.colgroup = el("colgroup");
    const caption = el("caption", { class: "visually-hidden", text: "The shared table: fill empty cells, vote on rows" });
    replaceChildren(table, caption, this.colgroup, this.thead, this.tbody);
  }

  setColumns(columns) {
    this.columns = columns;
    this.rebuild();
  }

  setReadOnly(readOnly) {
    if (readOnly === this.readOnly) return;
    this.readOnly = readOnly;
    this.rebuild();
  }

  rebuild() {
    this.trs.forEach((tr) => tr.remove());
    this.trs.clear();
    this.renderHead(this.estimate);
  }

  /** Column names, and under each the estimated pay for filling one of its cells. */
  renderHead(estimate) {
    this.estimate = estimate;
    replaceChildren(
      this.colgroup,
      el("col", { class: "col-rownum" }),
      this.columns.map((c) => el("col", { class: "col-value", dataset: { column: c.name } })),
      el("col", { class: "col-votes" }),
    );
    // Wide enough for every column to stay readable; below that the table scrolls sideways.
    this.table.style.setProperty("--value-columns", String(this.columns.length));
    const fill = (estimate && estimate.fill) || {};
    const names = el(
      "tr",
      {},
      el("th", { scope: "col", class: "rownum", text: "#" }),
      this.columns.map((c) =>
        el(
          "th",
          { scope: "col" },
          el("span", { class: "colname", text: c.name }),
          el("span", { class: "coltype", text: c.type }),
          // Rules are the requester's text: shown with textContent, never parsed as HTML.
          ruleHints(c).length ? el("span", { class: "colrules", text: ruleHints(c).join(" · ") }) : null,
          helpLine(c),
        ),
      ),
      el("th", { scope: "col", class: "votes", text: "Vote" }),
    );
    const pay = el(
      "tr",
      { class: "estimates" },
      el("th", { scope: "row", class: "rownum", text: "≈ pay" }),
      this.columns.map((c) =>
        el("td", {
          class: "estimate",
          dataset: { column: c.name, label: c.name },
          text: fill[c.name] === undefined ? "–" : `${formatCents(fill[c.name])} / fill`,
          attrs: { title: `Estimated pay for filling a ${c.name} cell` },
        }),
      ),
      el("td", {
        class: "estimate",
        dataset: { column: "__vote", label: "vote" },
        text: estimate && estimate.vote !== undefined ? `${formatCents(estimate.vote)} / vote` : "–",
        attrs: { title: "Estimated pay for a vote" },
      }),
    );
    replaceChildren(this.thead, names, pay);
  }

  /**
   * Draw `view` (a Replica). `pendingIds` are rows created by this worker's unconfirmed actions;
   * `isProtected(values)` says whether the template forbids downvoting a row.
   */
  render(view, pendingIds, isProtected, finalIds) {
    const focus = this.captureFocus();
    const rows = view.liveRows();
    const live = new Set(rows.map((r) => r.row_id));
    this.carryDrafts(view, live);
    for (const [id, tr] of this.trs) {
      if (!live.has(id)) {
        tr.remove();
        this.trs.delete(id);
      }
    }
    let previous = null;
    rows.forEach((row, index) => {
      let tr = this.trs.get(row.row_id);
      if (!tr || tr.dataset.signature !== signature(row.values)) {
        if (tr) tr.remove();
        tr = this.buildRow(row);
        this.trs.set(row.row_id, tr);
      }
      tr.querySelector(".rownum").textContent = String(index + 1);
      tr.classList.toggle("pending", pendingIds.has(row.row_id));
      tr.classList.toggle("final", finalIds.has(row.row_id));
      this.updateVotes(tr, row, view, isProtected, index + 1);
      this.updateModel(tr, row, view);
      // Only move a row when it is out of place: moving the <tr> holding the focused input blurs it.
      const expected = previous ? previous.nextSibling : this.tbody.firstChild;
      if (expected !== tr) this.tbody.insertBefore(tr, expected);
      previous = tr;
    });
    this.restoreFocus(focus, view);
  }

  buildRow(row) {
    const tr = el("tr", { dataset: { rowId: row.row_id, signature: signature(row.values) } });
    tr.append(el("th", { scope: "row", class: "rownum" }));
    // data-label names the column in the phone layout, where each row is a card with no header.
    for (const column of this.columns) {
      const has = Object.prototype.hasOwnProperty.call(row.values, column.name);
      const label = { dataset: { label: column.name } };
      if (has) {
        tr.append(el("td", { class: "filled", ...label }, valueText(formatValue(row.values[column.name]))));
      } else if (this.readOnly) {
        tr.append(el("td", { class: "empty", ...label }));
      } else {
        // The column's help rides along on the cell for the phone layout, which has no header row.
        tr.append(el("td", { class: "empty editable", ...label }, this.buildEditor(row.row_id, column), helpLine(column)));
      }
    }
    tr.append(el("td", { class: "votes", dataset: { label: "vote" } }));
    return tr;
  }

  buildEditor(rowId, column) {
    const key = draftKey(rowId, column.name);
    const editor = makeEditor(column, `${column.name} (empty)`);
    editor.dataset.rowId = rowId;
    editor.dataset.column = column.name;
    if (this.drafts.has(key)) editor.value = this.drafts.get(key);
    if (this.cellErrors.has(key)) markError(editor, this.cellErrors.get(key));
    const save = () => this.handlers.onFill(editor.dataset.rowId, column.name, editor.value, editor);
    let byKeyboard = false; // arrow keys change a closed <select> without meaning "save"
    editor.addEventListener("input", () => {
      const k = draftKey(editor.dataset.rowId, column.name);
      if (editor.value === "") this.drafts.delete(k);
      else this.drafts.set(k, editor.value);
      this.cellErrors.delete(k);
      clearError(editor);
    });
    editor.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        byKeyboard = false;
        save();
      } else if (event.key === "Tab" && !event.shiftKey && editor.value === "" && editor.dataset.suggestion) {
        // Accepting the model's suggestion is this worker's own fill of that value.
        event.preventDefault();
        editor.value = editor.dataset.suggestion;
        this.drafts.set(draftKey(editor.dataset.rowId, column.name), editor.value);
        save();
      } else if (event.key === "Escape") {
        event.preventDefault();
        const k = draftKey(editor.dataset.rowId, column.name);
        if (editor.value === "") editor.blur();
        editor.value = "";
        this.drafts.delete(k);
        this.cellErrors.delete(k);
        clearError(editor);
      } else if (editor.tagName === "SELECT" && event.key.startsWith("Arrow")) {
        byKeyboard = true;
      }
    });
    if (editor.tagName === "SELECT") {
      // A choice is saved only on Enter or the Save button: a mis-click in the list must not stick.
      const confirm = el("button", {
        type: "button",
        class: "small confirm-choice",
        text: "Save",
        attrs: { "aria-label": `Save ${column.name}`, title: "Save this choice (or press Enter)" },
        on: { click: () => save() },
      });
      const sync = () => {
        confirm.disabled = editor.value === "";
      };
      editor.addEventListener("change", sync);
      editor.addEventListener("blur", () => {
        byKeyboard = false;
      });
      sync();
      return el("span", { class: "choice" }, editor, confirm);
    }
    return editor;
  }

  /**
   * A model in the loop: its verdict on a complete row ("the model said negative"), and its
   * suggestions as ghost text in empty cells (Tab accepts one: a normal fill by this worker).
   * Model output is shown as text only.
   */
  updateModel(tr, row, view) {
    this.columns.forEach((column, index) => {
      const prediction = view.annotation("prediction", column.name, row.values);
      let verdict = tr.querySelector(`.model-verdict[data-column="${CSS.escape(column.name)}"]`);
      if (prediction && !verdict) {
        // Under the cell the model predicted, so the verdict sits beside the crowd's value.
        verdict = el("div", { class: "model-verdict", dataset: { column: column.name } });
        tr.children[index + 1].append(verdict);
      }
      if (verdict && prediction) {
        const percent = Math.round(prediction.confidence * 100);
        verdict.textContent = `the model said ${formatValue(prediction.value)}`;
        verdict.title = `the model's ${column.name}, ${percent}% sure`;
        const fooled = Object.prototype.hasOwnProperty.call(row.values, column.name) && row.values[column.name] !== prediction.value;
        verdict.classList.toggle("fooled", fooled);
        verdict.dataset.fooled = String(fooled);
      }
      const editor = tr.querySelector(`.cell-editor[data-column="${CSS.escape(column.name)}"]`);
      const suggestion = editor ? view.annotation("suggestion", column.name, row.values) : null;
      if (editor && editor.tagName !== "SELECT") {
        editor.placeholder = suggestion ? `${formatValue(suggestion.value)} (Tab to accept)` : `${column.name} (empty)`;
        editor.dataset.suggestion = suggestion ? String(suggestion.value) : "";
      } else if (editor && suggestion) {
        editor.dataset.suggestion = String(suggestion.value);
        editor.title = `suggested: ${formatValue(suggestion.value)} (Tab to accept)`;
      }
    });
  }

  updateVotes(tr, row, view, isProtected, number) {
    const cell = tr.querySelector("td.votes");
    const mine = view.myVoteOn(row.values);
    const up = this.readOnly ? false : view.canUpvote(row.values);
    const down = this.readOnly ? false : view.canDownvote(row.values, isProtected);
    const undo = !this.readOnly && mine !== null && view.undoableVoteOn(row.row_id, row.values) !== null;
    const state = `${mine}|${up}|${down}|${undo}`;
    if (cell.dataset.state === state) return;
    const hadFocus = cell.contains(document.activeElement);
    cell.dataset.state = state;
    const parts = [];
    // A mark, not a button: a worker votes once per row, so their own vote is shown but not offered again.
    if (mine === "up")
      parts.push(el("span", { class: "my-vote up", attrs: { role: "img", title: "You upvoted this row", "aria-label": "you upvoted this row" } }, thumb("up"), el("span", { class: "my-vote-label", text: "yours" })));
    if (mine === "down")
      parts.push(el("span", { class: "my-vote down", attrs: { role: "img", title: "You downvoted this row (or a part of it)", "aria-label": "you downvoted this row" } }, thumb("down"), el("span", { class: "my-vote-label", text: "yours" })));
    if (undo) parts.push(this.undoButton(row.row_id, number, mine));
    if (up) parts.push(this.voteButton("up", row.row_id, number));
    if (down) parts.push(this.voteButton("down", row.row_id, number));
    if (!this.readOnly && !up && mine === null && !view.isComplete(row.values)) {
      // Say why there is no upvote here rather than leaving the cell blank.
      parts.push(el("span", { class: "vote-why muted", text: "upvote when complete", attrs: { title: "Upvotes open once every cell of this row is filled; a wrong value can be downvoted now" } }));
    }
    if (!this.readOnly && mine === null && view.isComplete(row.values) && view.retracted("up", row.values)) {
      // A vote taken back cannot be cast again (docs/protocol.md, retract): say so, not just hide it.
      parts.push(el("span", { class: "vote-why muted", text: "upvote taken back", attrs: { title: "You took your upvote back; the same vote cannot be cast again" } }));
    }
    replaceChildren(cell, parts);
    if (hadFocus) (cell.querySelector("button") || tr.querySelector(".cell-editor"))?.focus();
  }

  voteButton(kind, rowId, number) {
    const label = kind === "up" ? `Upvote row ${number}: it is right` : `Downvote row ${number}: it is wrong`;
    return el(
      "button",
      {
        type: "button",
        class: `vote ${kind}`,
        attrs: { "aria-label": label, title: label },
        on: { click: () => this.handlers.onVote(kind, rowId) },
      },
      thumb(kind),
    );
  }

  undoButton(rowId, number, mine) {
    const label = `Undo your ${mine === "up" ? "upvote" : "downvote"} on row ${number}`;
    return el("button", {
      type: "button",
      class: "undo",
      text: "undo",
      attrs: { "aria-label": label, title: label },
      on: { click: () => this.handlers.onUndo(rowId) },
    });
  }

  /** Move drafts (and errors) of rows that were replaced to the row that replaced them. */
  carryDrafts(view, live) {
    for (const map of [this.drafts, this.cellErrors]) {
      for (const [key, text] of [...map]) {
        const [rowId, column] = key.split("\u0000");
        if (live.has(rowId)) continue;
        map.delete(key);
        const target = this.successorWithEmpty(view, rowId, column);
        if (target && !map.has(draftKey(target, column))) map.set(draftKey(target, column), text);
      }
    }
  }

  successorWithEmpty(view, rowId, column) {
    const next = view.successor(rowId);
    if (next && !Object.prototype.hasOwnProperty.call(view.rows.get(next), column)) return next;
    // A fresh snapshot carries no history: fall back to a live row that still extends the old one.
    const old = this.oldValues.get(rowId);
    if (!old) return null;
    for (const [id, values] of view.rows) {
      if (Object.prototype.hasOwnProperty.call(values, column)) continue;
      if (Object.keys(old).every((k) => values[k] === old[k])) return id;
    }
    return null;
  }

  get oldValues() {
    // Values of every row that has a <tr>, remembered from its signature (for carryDrafts).
    const map = new Map();
    for (const [id, tr] of this.trs) map.set(id, JSON.parse(tr.dataset.signature));
    return map;
  }

  captureFocus() {
    const active = document.activeElement;
    if (!active || !this.tbody.contains(active)) return null;
    if (active.classList.contains("cell-editor")) {
      return {
        rowId: active.dataset.rowId,
        column: active.dataset.column,
        start: active.selectionStart ?? null,
        end: active.selectionEnd ?? null,
      };
    }
    return null;
  }

  restoreFocus(focus, view) {
    if (this.focusNext) {
      const { rowId, afterColumn } = this.focusNext;
      this.focusNext = null;
      const tr = this.trs.get(rowId);
      if (tr) {
        const editors = [...tr.querySelectorAll(".cell-editor")];
        const names = this.columns.map((c) => c.name);
        const after = names.indexOf(afterColumn);
        const target =
          editors.find((e) => names.indexOf(e.dataset.column) > after) || editors[0] || tr.querySelector("button");
        if (target) {
          target.focus();
          return;
        }
      }
    }
    if (!focus || (document.activeElement && this.tbody.contains(document.activeElement))) return;
    const rowId = this.trs.has(focus.rowId) ? focus.rowId : view.successor(focus.rowId);
    const tr = rowId && this.trs.get(rowId);
    const editor = tr && [...tr.querySelectorAll(".cell-editor")].find((e) => e.dataset.column === focus.column);
    if (!editor) return;
    editor.focus();
    if (focus.start !== null && typeof editor.setSelectionRange === "function") {
      try {
        editor.setSelectionRange(focus.start, focus.end);
      } catch {
        // Some input types (date) have no caret to restore.
      }
    }
  }

  /** Put a refused value back into its cell with the reason, so the worker can correct it. */
  restoreDraft(rowId, column, raw, message) {
    this.drafts.set(draftKey(rowId, column), raw);
    this.cellErrors.set(draftKey(rowId, column), message);
    const tr = this.trs.get(rowId);
    const editor = tr && [...tr.querySelectorAll(".cell-editor")].find((e) => e.dataset.column === column);
    if (editor) {
      editor.value = raw;
      markError(editor, message);
    }
    return editor || null;
  }

  forgetDraft(rowId, column) {
    this.drafts.delete(draftKey(rowId, column));
    this.cellErrors.delete(draftKey(rowId, column));
  }
}

/** A value, clamped to a few lines by CSS; focus (or the title, on hover) shows all of it. */
function valueText(text) {
  const long = text.length > 40;
  return el("span", { class: "value", text, attrs: long ? { title: text, tabindex: "0" } : {} });
}

export function markError(editor, message) {
  editor.setAttribute("aria-invalid", "true");
  editor.title = message;
  editor.closest("td")?.classList.add("refused");
}

function clearError(editor) {
  editor.removeAttribute("aria-invalid");
  editor.title = "";
  editor.closest("td")?.classList.remove("refused");
}

function signature(values) {
  const sorted = {};
  for (const key of Object.keys(values).sort()) sorted[key] = values[key];
  return JSON.stringify(sorted);
}

