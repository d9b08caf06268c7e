// Small DOM helpers shared by every page. Data from the server or from other people is always put
// into the page as text (textContent / attribute values), never parsed as HTML.

/**
 * Create an element. `props` may hold: class, text, attrs (object), dataset (object), on (object of
 * event listeners), and any writable DOM property (value, type, disabled, ...).
 * Children may be nodes, strings (added as text) or null/undefined (skipped).
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = String(value);
    else if (name === "attrs") for (const [a, v] of Object.entries(value)) node.setAttribute(a, String(v));
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name === "on") for (const [type, fn] of Object.entries(value)) node.addEventListener(type, fn);
    else node[name] = value;
  }
  append(node, children);
  return node;
}

export function append(node, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Replace all children of `node`. */
export function replaceChildren(node, ...children) {
  node.replaceChildren();
  return append(node, children);
}

/** Cents as dollars, e.g. 1234 -> "$12.34"; small amounts keep their cents visible. */
export function formatCents(cents) {
  if (typeof cents !== "number" || !Number.isFinite(cents)) return "–";
  const sign = cents < 0 ? "-" : "";
  const abs = Math.abs(Math.round(cents));
  return `${sign}$${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
}

/** A cell value as a person reads it. */
export function formatValue(value) {
  if (value === true) return "true";
  if (value === false) return "false";
  return String(value);
}

/**
 * Show `text` in the page's notice box (the element with id "notice"), replacing what it said.
 * `kind` is info, success or error (it picks the colour). `scroll` brings the box into view, for
 * pages long enough that it may be off screen.
 */
export function notice(text, kind = "info", { scroll = false } = {}) {
  const box = document.getElementById("notice");
  box.hidden = false;
  box.className = `notice notice-${kind}`;
  replaceChildren(box, el("p", { text }));
  if (scroll) box.scrollIntoView({ block: "nearest" });
}

/** The connection status line (id "connection"): `kind` (online, offline, ...) styles it, `text` says it. */
export function setConnection(kind, text) {
  const node = document.getElementById("connection");
  node.dataset.state = kind;
  node.textContent = text;
}

/** A short-lived message in a live region, so screen readers announce it too. */
export function announce(region, message, kind = "info", ms = 8000) {
  const item = el("div", { class: `toast toast-${kind}`, text: message, attrs: { role: kind === "error" ? "alert" : "status" } });
  region.append(item);
  if (ms > 0) setTimeout(() => item.remove(), ms);
  return item;
}

/** Copy text to the clipboard; falls back to selecting it when the clipboard API is refused. */
export async function copyText(text, fallbackInput) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    if (fallbackInput) {
      fallbackInput.focus();
      fallbackInput.select();
    }
    return false;
  }
}
