// Sort, filter and search the worker's rows, count them, and jump to the next row needing a vote.
// The table view keeps every row (typing in a hidden row's cell is not lost); filtering hides <tr>s
// and sorting reorders the rows handed to the view.

import { el, formatValue, replaceChildren } from "./dom.js";

const FILTERS = {
  all: "all rows",
  vote: "rows needing my vote",
  incomplete: "rows with empty cells",
  complete: "complete rows",
};

export class RowTools {
  /** @param {HTMLElement} host where the toolbar goes; @param {() => void} onChange redraw */
  constructor(host, onChange) {
    this.onChange = onChange;
    this.search = "";
    this.filter = "all";
    this.sort = "";
    this.direction = 1;
    this.columns = [];
    this.searchInput = el("input", { type: "search", id: "row-search", attrs: { "aria-label": "Search the rows", placeholder: "Search rows…" } });
    this.searchInput.addEventListener("input", () => {
      this.search = this.searchInput.value.trim().toLowerCase();
      this.onChange();
    });
    this.filterSelect = el("select", { id: "row-filter", attrs: { "aria-label": "Show" } }, Object.entries(FILTERS).map(([value, text]) => el("option", { value, text })));
    this.filterSelect.addEventListener("change", () => {
      this.filter = this.filterSelect.value;
      this.onChange();
    });
    this.sortSelect = el("select", { id: "row-sort", attrs: { "aria-label": "Sort by" } });
    this.sortSelect.addEventListener("change", () => {
      const [column, direction] = this.sortSelect.value.split("\u0000");
      this.sort = column || "";
      this.direction = direction === "desc" ? -1 : 1;
      this.onChange();
    });
    this.counts = el("p", { id: "row-counts", class: "muted", attrs: { "aria-live": "polite" } });
    this.jump = el("button", { type: "button", id: "next-vote", class: "small", text: "Next row needing my vote" });
    host.replaceChildren(
      el("div", { class: "row-tools" },
        el("label", { class: "inline" }, "Search", this.searchInput),
        el("label", { class: "inline" }, "Show", this.filterSelect),
        el("label", { class: "inline" }, "Sort", this.sortSelect),
        this.jump),
      this.counts,
    );
  }

  setColumns(columns) {
    this.columns = columns;
    const options = [el("option", { value: "", text: "table order" })];
    for (const c of columns) {
      options.push(el("option", { value: `${c.name}\u0000asc`, text: `${c.name} A→Z` }));
      options.push(el("option", { value: `${c.name}\u0000desc`, text: `${c.name} Z→A` }));
    }
    replaceChildren(this.sortSelect, options);
    this.sort = "";
  }

  /** The rows in the chosen order (every row: filtering only hides them). */
  order(rows) {
    if (!this.sort) return rows;
    const name = this.sort;
    const key = (row) => (Object.prototype.hasOwnProperty.call(row.values, name) ? row.values[name] : undefined);
    return [...rows].sort((a, b) => {
      const x = key(a);
      const y = key(b);
      if (x === undefined || y === undefined) return x === y ? 0 : x === undefined ? 1 : -1; // empty last
      if (typeof x === "number" && typeof y === "number") return this.direction * (x - y);
      return this.direction * String(formatValue(x)).localeCompare(String(formatValue(y)));
    });
  }

  /** Hide the rows the filter and search leave out; count what is there; wire the jump button. */
  apply(rows, trs, replica) {
    let complete = 0;
    let needVote = 0;
    let shown = 0;
    const needing = [];
    for (const row of rows) {
      const tr = trs.get(row.row_id);
      if (!tr) continue;
      const isComplete = replica.isComplete(row.values);
      const needs = isComplete && replica.myVoteOn(row.values) === null && replica.canUpvote(row.values);
      if (isComplete) complete += 1;
      if (needs) needVote += 1;
      tr.classList.toggle("needs-my-vote", needs);
      const text = Object.values(row.values).map((v) => String(formatValue(v)).toLowerCase()).join("\u0000");
      const matches =
        (!this.search || text.includes(this.search)) &&
        (this.filter === "all" ||
          (this.filter === "vote" && needs) ||
          (this.filter === "incomplete" && !isComplete) ||
          (this.filter === "complete" && isComplete));
      tr.hidden = !matches;
      if (matches) shown += 1;
      if (needs && matches) needing.push(tr);
    }
    const total = rows.length;
    const parts = [`${total} row${total === 1 ? "" : "s"}`, `${complete} complete`, `${total - complete} with empty cells`, `${needVote} need${needVote === 1 ? "s" : ""} my vote`];
    if (shown !== total) parts.push(`${shown} shown`);
    this.counts.textContent = parts.join(" · ");
    this.jump.disabled = needing.length === 0;
    this.jump.onclick = () => {
      // The next one below the last jump (or the first), scrolled into view with its vote button focused.
      const index = needing.indexOf(this.lastJump);
      const target = needing[(index + 1) % needing.length];
      this.lastJump = target;
      target.scrollIntoView({ block: "center" });
      target.querySelector("button.vote.up")?.focus();
    };
  }
}
