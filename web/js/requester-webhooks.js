// The requester's webhooks panel for a saved table: register a URL, list the hooks (with the secret
// a receiver checks signatures with), delete one, and read a hook's delivery log.

import { api } from "./api.js";
import { announce, copyText, el, replaceChildren } from "./dom.js";

const toasts = document.getElementById("toasts");

/** The panel; `notice(message, kind)` reports failures the way the rest of the page does. */
export function webhooksPanel(current, notice) {
  const base = `/api/tables/${encodeURIComponent(current.id)}/webhooks`;
  const urlInput = el("input", { id: "webhook-url", type: "url", attrs: { placeholder: "https://example.org/crowdfill", "aria-label": "webhook URL" } });
  const list = el("table", { class: "data", id: "webhooks" });
  const log = el("div", { id: "webhook-deliveries" });

  const load = async () => {
    let hooks = [];
    try {
      hooks = (await api("GET", base)).webhooks || [];
    } catch (error) {
      notice(`Cannot load webhooks: ${error.message}`, "error");
    }
    const rows = hooks.map((hook) => {
      const secret = el("input", { type: "text", value: hook.secret, readOnly: true, attrs: { "aria-label": `signing secret of ${hook.url}` } });
      return el("tr", { dataset: { hookId: hook.hook_id } },
        el("td", { class: "hook-url", text: hook.url }),
        el("td", { text: hook.events.length === 7 ? "all events" : hook.events.join(", ") }),
        el("td", {}, secret, " ",
          el("button", { type: "button", class: "small", text: "Copy", attrs: { "aria-label": `copy the secret of ${hook.url}` }, on: { click: async () => announce(toasts, (await copyText(hook.secret, secret)) ? "Secret copied." : "Selected: press Ctrl+C to copy.", "info", 2500) } })),
        el("td", {},
          el("button", { type: "button", class: "small", text: "Deliveries", attrs: { "aria-label": `deliveries of ${hook.url}` }, on: { click: () => showDeliveries(hook) } }),
          " ",
          el("button", { type: "button", class: "small danger", text: "Delete", attrs: { "aria-label": `delete the webhook ${hook.url}` }, on: { click: () => remove(hook) } })));
    });
    replaceChildren(list,
      el("thead", {}, el("tr", {}, ["URL", "events", "secret", ""].map((t) => el("th", { scope: "col", text: t })))),
      el("tbody", {}, rows.length ? rows : el("tr", {}, el("td", { colSpan: 4, class: "muted", text: "No webhooks." }))));
  };

  const add = async () => {
    const url = urlInput.value.trim();
    if (!url) {
      notice("Cannot add a webhook: type the URL that should receive the events.", "error");
      urlInput.focus();
      return;
    }
    try {
      await api("POST", base, { body: { url } });
      urlInput.value = "";
      announce(toasts, "Webhook added: it receives every event of this table.", "success", 3000);
    } catch (error) {
      notice(`Cannot add the webhook: ${error.message}`, "error");
    }
    await load();
  };

  const remove = async (hook) => {
    try {
      await api("DELETE", `${base}/${encodeURIComponent(hook.hook_id)}`);
      announce(toasts, `Webhook ${hook.url} deleted.`, "success", 3000);
      replaceChildren(log);
    } catch (error) {
      notice(`Cannot delete the webhook: ${error.message}`, "error");
    }
    await load();
  };

  const showDeliveries = async (hook) => {
    let deliveries;
    try {
      deliveries = (await api("GET", `${base}/${encodeURIComponent(hook.hook_id)}/deliveries`)).deliveries || [];
    } catch (error) {
      notice(`Cannot load the deliveries: ${error.message}`, "error");
      return;
    }
    const outcome = (attempt) => (attempt.status_code !== null && attempt.status_code !== undefined ? `HTTP ${attempt.status_code}` : attempt.error || "");
    replaceChildren(log,
      el("h3", { text: `Deliveries to ${hook.url}` }),
      el("table", { class: "data", id: "webhook-delivery-log" },
        el("thead", {}, el("tr", {}, ["event", "state", "attempts", "last answer", "next attempt"].map((t) => el("th", { scope: "col", text: t })))),
        el("tbody", {}, deliveries.length
          ? deliveries.map((d) => el("tr", { dataset: { eventId: d.event_id, state: d.state } },
            el("td", { text: d.type }),
            el("td", { class: `state ${d.state}`, text: d.state }),
            el("td", { class: "num", text: String(d.attempts.length) }),
            el("td", { text: d.attempts.length ? outcome(d.attempts[d.attempts.length - 1]) : "" }),
            el("td", { text: d.next_attempt_at ? new Date(d.next_attempt_at * 1000).toLocaleTimeString() : "" })))
          : el("tr", {}, el("td", { colSpan: 5, class: "muted", text: "Nothing sent yet." })))));
  };

  urlInput.addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      e.preventDefault();
      add();
    }
  });
  load();
  return el(
    "section",
    { id: "webhooks-panel", attrs: { "aria-labelledby": "webhooks-title" } },
    el("h2", { id: "webhooks-title", text: "Webhooks" }),
    el("p", { class: "muted", text: "Signed JSON events (launched, rows entering or leaving the final table, completed, closed, workers joining or blocked, payments settled) go to these URLs; see docs/protocol.md." }),
    el("div", { class: "field-row" }, urlInput, el("button", { type: "button", id: "add-webhook", text: "Add webhook", on: { click: add } }),
      el("button", { type: "button", class: "small", id: "refresh-webhooks", text: "Refresh", on: { click: load } })),
    list,
    log,
  );
}
