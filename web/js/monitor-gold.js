// The monitor's gold section: the gold rows apart from the candidates, each voter's answer on them
// (right or wrong against the known verdict), and the workers' screening outcomes.

import { el, formatValue, replaceChildren } from "./dom.js";

/** Redraw the gold section from a "monitor" message; hidden while the table has no gold rows. */
export function drawGold(message) {
  const section = document.getElementById("gold");
  if (!section) return;
  const gold = message.gold || [];
  const screened = (message.workers || []).filter((w) => w.screening);
  section.hidden = !gold.length && !screened.length;
  const columns = (message.table?.schema?.columns || []).map((c) => c.name);
  const head = el("thead", {}, el("tr", {}, [...columns, "verdict", "use", "answers"].map((t) => el("th", { scope: "col", text: t }))));
  const body = el("tbody", {}, gold.map((row) => el("tr", { dataset: { goldId: row.id } },
    ...columns.map((name) => el("td", { text: formatValue(row.values[name]) })),
    el("td", { text: row.verdict ? "right" : "wrong" }),
    el("td", { text: row.use }),
    el("td", { class: "gold-answers" }, row.votes.length
      ? row.votes.map((vote) => el("span", {
        class: `gold-answer ${vote.right ? "match-ok" : "match-none"}`,
        dataset: { worker: vote.worker_id },
        text: `${vote.worker_id}: ${vote.answer === "up" ? "▲" : "▼"} ${vote.right ? "✓" : "✗"} `,
      }))
      : el("span", { class: "muted", text: "no votes yet" })))));
  replaceChildren(document.getElementById("gold-rows"), head, body);
  const list = document.getElementById("screening-outcomes");
  replaceChildren(list, screened.length
    ? el("ul", {}, screened.map((w) => el("li", { dataset: { worker: w.worker_id }, text: `${w.worker_id}: ${w.screening.status} (${w.screening.right} of ${w.screening.asked} right)` })))
    : el("p", { class: "muted", text: "No worker has been screened." }));
}
