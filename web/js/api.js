// REST access for the requester pages and the worker page's public calls.
// The requester token is asked for once and kept in localStorage, so every requester page of this
// origin shares it; it is sent as a Bearer header and never put in a URL.

const TOKEN_KEY = "crowdfill.requesterToken";

export function requesterToken() {
  return localStorage.getItem(TOKEN_KEY) || "";
}

export function setRequesterToken(token) {
  if (token) localStorage.setItem(TOKEN_KEY, token.trim());
  else localStorage.removeItem(TOKEN_KEY);
}

/** An error the server explained: {"error": {"code", "message"}}, plus the HTTP status. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function errorFrom(response) {
  let code = `http_${response.status}`;
  let message = response.statusText || `request failed with status ${response.status}`;
  try {
    const body = await response.json();
    if (body && body.error) {
      code = body.error.code || code;
      message = body.error.message || message;
    } else if (body && body.detail) {
      // FastAPI's own validation errors, in case one slips through unwrapped.
      message = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
    }
  } catch {
    // Not JSON: keep the status text.
  }
  return new ApiError(response.status, code, message);
}

/**
 * Call the REST API. `auth` adds the requester token. Returns parsed JSON (or null for 204).
 * Throws ApiError with the server's code and message.
 */
export async function api(method, path, { body, auth = true, raw = false } = {}) {
  const headers = { Accept: "application/json" };
  if (auth) headers.Authorization = `Bearer ${requesterToken()}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (error) {
    throw new ApiError(0, "network", `cannot reach the server (${error.message})`);
  }
  if (!response.ok) throw await errorFrom(response);
  if (raw) return response;
  if (response.status === 204) return null;
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

/** Download an authenticated resource as a file (a plain link cannot carry the Bearer header). */
export async function download(path, filename) {
  const response = await api("GET", path, { raw: true });
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
