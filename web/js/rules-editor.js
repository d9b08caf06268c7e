// The schema editor's inputs for column rules (min / max for integer, number and date columns;
// max length and pattern for text) and their conversion to and from the table definition.
// The server validates the rules again and refuses patterns outside the documented subset.

import { el, formatValue } from "./dom.js";
import { parseCell } from "./cells.js";

const BOUNDED = new Set(["integer", "number", "date"]);

/** The editor's strings for a definition column's rules. */
export function rulesModel(column) {
  const text = (v) => (v === undefined || v === null ? "" : formatValue(v));
  return { min: text(column.min), max: text(column.max), max_length: text(column.max_length), pattern: column.pattern ?? "" };
}

/**
 * The rule fields of the definition column for model column `c` (only those that apply to its
 * type and are filled in). Throws `makeError(message)` for a rule that cannot be used.
 */
export function rulesFrom(c, makeError) {
  const rules = {};
  const name = c.name.trim();
  if (BOUNDED.has(c.type)) {
    for (const field of ["min", "max"]) {
      const raw = (c[field] ?? "").trim();
      if (!raw) continue;
      const parsed = parseCell({ name, type: c.type }, raw);
      if (parsed.error) throw makeError(`${field} of column "${name}": ${parsed.error} (got "${raw}")`);
      rules[field] = parsed.value;
    }
    if (rules.min !== undefined && rules.max !== undefined && rules.min > rules.max) {
      throw makeError(`column "${name}": min ${rules.min} is above max ${rules.max}`);
    }
  }
  if (c.type === "text") {
    const length = (c.max_length ?? "").trim();
    if (length) {
      if (!/^\d+$/.test(length) || Number(length) < 1) throw makeError(`max length of column "${name}" must be a whole number of at least 1`);
      rules.max_length = Number(length);
    }
    const pattern = c.pattern ?? "";
    if (pattern) {
      try {
        new RegExp(`^(?:${pattern})$`, "u");
      } catch {
        throw makeError(`pattern of column "${name}" is not a valid regular expression`);
      }
      rules.pattern = pattern;
    }
  }
  return rules;
}

/**
 * The rule inputs for model column `c` (number `i` on screen). `input(props, onInput)` and
 * `change(mutator)` are the editor's own helpers, so these fields behave like its others.
 */
export function rulesEditor(c, i, input, change) {
  const field = (rule, label, props = {}) =>
    input(
      { type: "text", value: c[rule] ?? "", class: `col-${rule.replace("_", "-")}`, dataset: { focusKey: `${rule}-${c.uid}` }, attrs: { "aria-label": `column ${i + 1} ${label}`, placeholder: label }, ...props },
      (n) => change(() => { c[rule] = n.value; }),
    );
  if (BOUNDED.has(c.type)) {
    const kind = c.type === "date" ? { type: "date" } : { inputMode: c.type === "integer" ? "numeric" : "decimal" };
    return el("div", { class: "col-rules" }, field("min", "min", kind), field("max", "max", kind));
  }
  if (c.type === "text") {
    return el("div", { class: "col-rules" }, field("max_length", "max length", { inputMode: "numeric" }), field("pattern", "pattern"));
  }
  return el("span", { class: "muted", text: "–" });
}
