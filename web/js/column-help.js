// Per-column help text: written by the requester in the schema editor, kept in the definition as
// the column's "help", and shown to workers under the column's name (as text, never as HTML).

import { el } from "./dom.js";

export const MAX_HELP = 500; // the definition's limit

export function helpModel(column) {
  return { help: column.help || "" };
}

/** The column's help for the definition (left out when empty). */
export function helpFrom(column) {
  const help = (column.help || "").trim();
  return help ? { help } : {};
}

/** The editor's input for a column's help text. */
export function helpEditor(column, index, input, change) {
  return input({
    type: "text", value: column.help || "", class: "col-help", maxLength: MAX_HELP,
    dataset: { focusKey: `help-${column.uid}` },
    attrs: { "aria-label": `column ${index + 1} help for workers`, placeholder: "help for workers (optional)" },
  }, (node) => change(() => { column.help = node.value; }));
}

/** The worker page's line of help under a column's name, or null. */
export function helpLine(column) {
  return column.help ? el("span", { class: "col-help-text", text: column.help }) : null;
}
