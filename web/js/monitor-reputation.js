// The monitor's reputation section: per worker the estimate, the evidence behind it, the weight in
// force and whether their votes count, with a button to exclude a worker by hand (or undo it).
// Drawn from each "monitor" message's "reputation" list; the buttons call the requester REST API,
// and the next "monitor" message shows the result.

import { api } from "./api.js";
import { el, notice, replaceChildren } from "./dom.js";

const STATUS_TEXT = { counted: "counts", quarantined: "quarantined (below the floor)", excluded: "excluded by you" };

export function drawReputation(host, tableId, rows, live) {
  const head = el(
    "thead",
    {},
    el("tr", {}, ["worker", "estimate", "evidence (gold)", "weight", "votes", ""].map((t) => el("th", { scope: "col", text: t }))),
  );
  const body = el(
    "tbody",
    {},
    rows.map((w) =>
      el(
        "tr",
        { class: `standing-${w.status}`, dataset: { workerId: w.worker_id, status: w.status } },
        el("td", { text: w.worker_id }),
        el("td", { class: "num estimate", text: Number(w.estimate).toFixed(2) }),
        el("td", { class: "num evidence", text: `${w.evidence} (${w.gold_votes})` }),
        el("td", { class: "num weight", text: Number(w.weight).toFixed(2) }),
        el("td", { class: "standing", text: STATUS_TEXT[w.status] || w.status }),
        el("td", {}, live ? exclusionButton(tableId, w) : ""),
      ),
    ),
  );
  if (!rows.length) body.append(el("tr", {}, el("td", { class: "muted", colSpan: 6, text: "Nobody has voted yet." })));
  replaceChildren(host, head, body);
}

function exclusionButton(tableId, worker) {
  const excluded = worker.status === "excluded";
  const path = `/api/tables/${encodeURIComponent(tableId)}/workers/${encodeURIComponent(worker.worker_id)}/exclusion`;
  return el("button", {
    type: "button",
    class: `small ${excluded ? "include" : "exclude"}`,
    text: excluded ? "undo exclusion" : "exclude",
    attrs: { "aria-label": `${excluded ? "undo the exclusion of" : "exclude"} worker ${worker.worker_id}` },
    on: {
      click: async (event) => {
        event.currentTarget.disabled = true;
        try {
          await api(excluded ? "DELETE" : "POST", path);
        } catch (error) {
          notice(`Could not change worker ${worker.worker_id}: ${error.message}`, "error");
          event.currentTarget.disabled = false;
        }
      },
    },
  });
}
