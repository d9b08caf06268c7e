// The requester page's exports: the final or candidate table in every format `crowdfill export`
// writes (CSV, JSONL, Parquet, a Hugging Face dataset as a zip), with the same columns, and the
// choice to leave out CrowdFill's internal row ids (GET /api/tables/{id}/exports/{what}).

import { download } from "./api.js";
import { el } from "./dom.js";

const FORMATS = [
  ["csv", "CSV", ".csv"],
  ["jsonl", "JSONL", ".jsonl"],
  ["parquet", "Parquet", ".parquet"],
  ["hf", "Hugging Face dataset (zip)", "-hf.zip"],
];

/** What to export, in which format, with or without row ids, and the button that downloads it. */
export function exportControls(current, name, notice) {
  const what = el("select", { id: "export-what", attrs: { "aria-label": "rows to export" } },
    el("option", { value: "final", text: "Final table", selected: true }),
    el("option", { value: "candidates", text: "Candidate rows (with scores)" }));
  const format = el("select", { id: "export-format", attrs: { "aria-label": "export format" } },
    FORMATS.map(([value, text]) => el("option", { value, text })));
  const rowIds = el("input", { type: "checkbox", id: "export-row-ids", checked: true });
  const go = async () => {
    const [, , suffix] = FORMATS.find(([value]) => value === format.value);
    const query = new URLSearchParams({ format: format.value, row_ids: String(rowIds.checked) });
    const file = `${name || current.id}-${what.value}${suffix}`;
    try {
      await download(`/api/tables/${encodeURIComponent(current.id)}/exports/${what.value}?${query}`, file);
    } catch (error) {
      notice(`Export failed: ${error.message}`, "error");
    }
  };
  return el("div", { class: "export-controls", id: "exports" },
    el("label", {}, "Export ", what),
    el("label", {}, "as ", format),
    el("label", { class: "inline" }, rowIds, " include internal row ids"),
    el("button", { type: "button", id: "export-download", class: "small primary", text: "Download", on: { click: go } }));
}
