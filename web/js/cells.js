// Typed cell editors and the parsing of what a worker typed into a column's value.
// Parsing here only catches obvious slips early; the server validates every value again.

import { el, formatValue } from "./dom.js";
import { brokenRule } from "./rules.js";

const MAX_TEXT = 1000;

/**
 * Turn an editor's raw string into the column's value.
 * Returns {value} or {error} with a message a worker can act on.
 */
export function parseCell(column, raw) {
  const parsed = parseType(column, raw);
  if (parsed.error) return parsed;
  const broken = brokenRule(column, parsed.value);
  return broken ? { error: broken.error, rule: broken.rule } : parsed;
}

function parseType(column, raw) {
  const text = String(raw ?? "").trim();
  if (text === "") return { error: "type a value first" };
  if (column.domain && column.domain.length) {
    // Domain selects hold the index of the allowed value, so numbers and booleans keep their type.
    const value = column.domain[Number(text)];
    return value === undefined ? { error: `choose one of: ${column.domain.map(formatValue).join(", ")}` } : { value };
  }
  switch (column.type) {
    case "integer": {
      // A whole float such as 1629.0 is that integer, as on the server.
      if (!/^[+-]?\d+(\.0*)?$/.test(text)) return { error: `${column.name} takes a whole number` };
      const value = Number(text);
      // Beyond 2^53 - 1 a JavaScript number rounds (123456789012345678 would become ...680).
      return Number.isSafeInteger(value)
        ? { value }
        : { error: `${column.name} takes whole numbers between -${Number.MAX_SAFE_INTEGER} and ${Number.MAX_SAFE_INTEGER}` };
    }
    case "number": {
      const value = Number(text);
      return Number.isFinite(value) ? { value } : { error: `${column.name} takes a number` };
    }
    case "boolean":
      if (text === "true") return { value: true };
      if (text === "false") return { value: false };
      return { error: `${column.name} takes true or false` };
    case "date":
      return /^\d{4}-\d{2}-\d{2}$/.test(text) && !Number.isNaN(Date.parse(text))
        ? { value: text }
        : { error: `${column.name} takes a date (YYYY-MM-DD)` };
    default:
      return text.length <= MAX_TEXT ? { value: text } : { error: `${column.name} is limited to ${MAX_TEXT} characters` };
  }
}

/** An input or select fitting the column's type; `label` names it for screen readers. */
export function makeEditor(column, label) {
  if (column.domain && column.domain.length) {
    return el(
      "select",
      { class: "cell-editor", attrs: { "aria-label": label } },
      el("option", { value: "", text: "—" }),
      column.domain.map((v, i) => el("option", { value: String(i), text: formatValue(v) })),
    );
  }
  if (column.type === "boolean") {
    return el(
      "select",
      { class: "cell-editor", attrs: { "aria-label": label } },
      el("option", { value: "", text: "—" }),
      el("option", { value: "true", text: "true" }),
      el("option", { value: "false", text: "false" }),
    );
  }
  const input = el("input", { class: "cell-editor", attrs: { "aria-label": label, autocomplete: "off" } });
  if (column.type === "integer") {
    input.type = "text";
    input.inputMode = "numeric";
  } else if (column.type === "number") {
    input.type = "text";
    input.inputMode = "decimal";
  } else if (column.type === "date") {
    input.type = "date";
  } else {
    input.type = "text";
    input.maxLength = MAX_TEXT;
  }
  return input;
}
