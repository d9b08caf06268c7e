// How the worker arrived: a manual link (?token=), Amazon Mechanical Turk (ExternalQuestion
// parameters) or Prolific (study URL parameters). Each needs its own way to get a session token
// and its own way to hand the work back.

import { api } from "./api.js";

export const MTURK_PREVIEW = "ASSIGNMENT_ID_NOT_AVAILABLE";

/** Read the arrival from a URL's query string. */
export function arrivalFrom(search) {
  const q = new URLSearchParams(search);
  if (q.has("assignmentId")) {
    const assignmentId = q.get("assignmentId") || "";
    return {
      platform: "mturk",
      preview: assignmentId === MTURK_PREVIEW,
      assignmentId,
      hitId: q.get("hitId") || "",
      workerId: q.get("workerId") || "",
      turkSubmitTo: q.get("turkSubmitTo") || "",
      // The requester's signed URL (crowdfill mturk publish): without it the server refuses a session.
      batch: q.get("cf_batch") || "",
      signature: q.get("cf_sig") || "",
    };
  }
  if (q.has("PROLIFIC_PID")) {
    return {
      platform: "prolific",
      preview: false,
      workerId: q.get("PROLIFIC_PID") || "",
      studyId: q.get("STUDY_ID") || "",
      sessionId: q.get("SESSION_ID") || "",
      signature: q.get("cf_sig") || "",
    };
  }
  return { platform: "manual", preview: false, token: q.get("token") || "" };
}

/** A session token for the socket: given in the link, or issued by the server for a market worker. */
export async function sessionToken(tableId, arrival) {
  if (arrival.platform === "manual") return arrival.token;
  // Reloading the page must not lose the session, and the server may refuse a second one.
  const key = `crowdfill.session.${tableId}.${arrival.platform}.${arrival.workerId}`;
  const kept = sessionStorage.getItem(key);
  if (kept) return kept;
  const body =
    arrival.platform === "mturk"
      ? { platform: "mturk", worker_id: arrival.workerId, assignment_id: arrival.assignmentId, hit_id: arrival.hitId }
      : { platform: "prolific", worker_id: arrival.workerId, study_id: arrival.studyId, session_id: arrival.sessionId };
  // Sent only when the URL has them, so the server answers "signature_missing" rather than a schema error.
  if (arrival.batch) body.batch = arrival.batch;
  if (arrival.signature) body.signature = arrival.signature;
  const answer = await api("POST", `/api/tables/${encodeURIComponent(tableId)}/sessions`, { body, auth: false });
  sessionStorage.setItem(key, answer.token);
  return answer.token;
}

/**
 * MTurk's external-question hand-back: a real form POST (not fetch) to
 * <turkSubmitTo>/mturk/externalSubmit, because MTurk expects the browser to navigate there.
 * MTurk requires at least one answer field besides assignmentId.
 */
export function submitToMturk(arrival, answers) {
  const base = arrival.turkSubmitTo.replace(/\/+$/, "");
  const form = document.createElement("form");
  form.method = "POST";
  form.action = `${base}/mturk/externalSubmit`;
  form.hidden = true;
  const fields = { assignmentId: arrival.assignmentId, ...answers };
  for (const [name, value] of Object.entries(fields)) {
    const input = document.createElement("input");
    input.type = "hidden";
    input.name = name;
    input.value = String(value);
    form.append(input);
  }
  document.body.append(form);
  form.submit();
}

/** Where a Prolific participant goes when done: the study's completion URL (or one built from its code). */
export function prolificCompletionUrl(publicInfo) {
  const p = publicInfo.prolific || {};
  const url = p.completion_url || publicInfo.prolific_completion_url || publicInfo.completion_url;
  if (url) return url;
  const code = p.completion_code || publicInfo.prolific_completion_code || publicInfo.completion_code;
  return code ? `https://app.prolific.com/submissions/complete?cc=${encodeURIComponent(code)}` : null;
}
