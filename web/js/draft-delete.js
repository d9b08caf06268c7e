// Deleting a draft from the requester page (DELETE /api/tables/{id}): asked once more, because it
// cannot be undone. Only drafts have the button; the server refuses the rest too.

import { api } from "./api.js";
import { el } from "./dom.js";

/** The "Delete draft" button; `onDeleted` runs once the server has deleted it. */
export function deleteDraftButton(current, { notice, onDeleted }) {
  const ask = () => {
    document.getElementById("delete-confirm")?.remove();
    const panel = el("div", { id: "delete-confirm", class: "notice notice-error", attrs: { role: "alertdialog", "aria-labelledby": "delete-confirm-title" } },
      el("p", {}, el("strong", { id: "delete-confirm-title", text: `Delete the draft "${current.definition?.name || current.id}"?` })),
      el("p", { text: "Its schema, template and settings are thrown away. This cannot be undone." }),
      el("div", { class: "actions" },
        el("button", { type: "button", id: "delete-confirmed", class: "danger", text: "Delete draft", on: { click: confirmed } }),
        el("button", { type: "button", id: "delete-cancel", text: "Keep it", on: { click: () => panel.remove() } })));
    document.getElementById("editor-header").append(panel);
    panel.querySelector("#delete-cancel").focus();
  };
  const confirmed = async () => {
    try {
      await api("DELETE", `/api/tables/${encodeURIComponent(current.id)}`);
    } catch (error) {
      notice(`Cannot delete: ${error.message}`, "error");
      return;
    }
    await onDeleted();
  };
  return el("button", { type: "button", id: "delete-draft", class: "danger", text: "Delete draft", on: { click: ask } });
}
