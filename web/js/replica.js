// The worker page's copy of the candidate table (DESIGN §2), applied from wire operations.
// Rows are never edited in place: a fill adds a new row and removes the one it replaces, so
// applying the same set of operations in any order gives the same rows. The page keeps one
// "confirmed" replica (what the server accepted) and draws confirmed + its own pending actions.

/** Do two row values (plain objects column -> value) hold exactly the same items? */
export function sameValues(a, b) {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && b[k] === a[k]);
}

/** Is every item of `small` also in `big`? */
export function subsetOf(small, big) {
  return Object.keys(small).every((k) => Object.prototype.hasOwnProperty.call(big, k) && big[k] === small[k]);
}

export class Replica {
  /** @param {string[]} columns column names in schema order */
  constructor(columns) {
    this.columns = columns;
    this.order = []; // live row ids, in display order
    this.rows = new Map(); // live row id -> values
    this.added = new Set(); // ids of rows this replica has added (live or since replaced)
    this.removed = new Set(); // ids of rows a fill replaced, even ones not added here yet
    this.replacedBy = new Map(); // old row id -> the row id that replaced it (for moving drafts/focus)
    this.myVotes = []; // [{kind: "up"|"down", values, rowId?}]: rowId names a row holding exactly values
    this.myRetracted = []; // [{kind, values}]: tombstones of this worker's retracted votes
    this.me = null; // this worker's id, from the snapshot
    this.annotations = new Map(); // annotationKey -> a model's annotation op (prediction or suggestion)
  }

  clone() {
    const copy = new Replica(this.columns);
    copy.order = [...this.order];
    copy.rows = new Map(this.rows);
    copy.added = new Set(this.added);
    copy.removed = new Set(this.removed);
    copy.replacedBy = new Map(this.replacedBy);
    copy.myVotes = [...this.myVotes];
    copy.myRetracted = [...this.myRetracted];
    copy.me = this.me;
    copy.annotations = new Map(this.annotations);
    return copy;
  }

  /** Replace everything with a server snapshot. */
  load(rows, myVotes, myRetracted) {
    this.order = [];
    this.rows = new Map();
    this.added = new Set();
    this.removed = new Set();
    for (const row of rows) {
      this.order.push(row.row_id);
      this.rows.set(row.row_id, { ...row.values });
      this.added.add(row.row_id);
    }
    this.myRetracted = (myRetracted || []).map((v) => ({ kind: normaliseKind(v.kind), values: { ...v.values } }));
    this.myVotes = (myVotes || []).map((v) => ({ kind: normaliseKind(v.kind), values: { ...v.values }, rowId: v.row_id ?? null }));
  }

  /** Has this replica seen the row (added or replaced)? */
  knows(rowId) {
    return this.added.has(rowId) || this.removed.has(rowId);
  }

  isComplete(values) {
    return this.columns.every((c) => Object.prototype.hasOwnProperty.call(values, c));
  }

  /**
   * Apply one wire operation. `mine` says it is this worker's own (acknowledged or pending)
   * action. Idempotent, and the result does not depend on the order operations arrive in:
   * a row replaced before it arrived is remembered (tombstone) and never shows up.
   */
  apply(op, mine = false) {
    const own = mine || (this.me !== null && op.worker === this.me);
    switch (op.type) {
      case "insert":
        if (this.added.has(op.row_id)) return false;
        this.added.add(op.row_id);
        if (this.removed.has(op.row_id)) return true;
        this.rows.set(op.row_id, { ...op.values });
        this.order.push(op.row_id);
        return true;
      case "fill": {
        if (this.added.has(op.new_row_id)) return false;
        this.added.add(op.new_row_id);
        const values = op.values ? { ...op.values } : { ...(this.rows.get(op.row_id) || {}), [op.column]: op.value };
        this.replacedBy.set(op.row_id, op.new_row_id);
        const at = this.order.indexOf(op.row_id);
        this.removed.add(op.row_id);
        this.rows.delete(op.row_id);
        if (this.removed.has(op.new_row_id)) {
          // Already replaced by a later fill we saw first: only the old row goes.
          if (at >= 0) this.order.splice(at, 1);
        } else {
          this.rows.set(op.new_row_id, values);
          // The replacement takes the old row's place, so the row a worker is looking at stays put;
          // if the old row was already replaced by a concurrent fill, both new rows live (duplication).
          if (at >= 0) this.order[at] = op.new_row_id;
          else this.order.push(op.new_row_id);
        }
        if (own && op.upvote) this.recordVote("up", values, op.new_row_id);
        return true;
      }
      case "upvote":
      case "downvote": {
        if (!own) return false; // others' votes change nothing a worker sees (totals are hidden)
        const values = op.values || this.rows.get(op.row_id);
        if (!values) return false;
        return this.recordVote(op.type === "upvote" ? "up" : "down", values, op.row_id);
      }
      case "retract": {
        if (!own) return false;
        const values = op.values || this.rows.get(op.row_id);
        if (!values || (op.kind !== "up" && op.kind !== "down")) return false;
        return this.retractVote(op.kind, values);
      }
      case "annotate":
        return this.annotate(op);
      default:
        return false;
    }
  }

  /** Keep a model's annotation; of two for one key the more confident wins (as on the server). */
  annotate(op) {
    if (!op.values || (op.kind !== "prediction" && op.kind !== "suggestion")) return false;
    const key = annotationKey(op.kind, op.column, op.values);
    const kept = this.annotations.get(key);
    // The server's order (crowdfill.model.operations.annotation_rank): confidence, then the value.
    if (kept && (kept.confidence > op.confidence || (kept.confidence === op.confidence && String(kept.value) >= String(op.value)))) return false;
    this.annotations.set(key, { ...op, values: { ...op.values } });
    return true;
  }

  /** The model's annotation of `kind` on `column` for a row holding exactly `values`, or null. */
  annotation(kind, column, values) {
    return this.annotations.get(annotationKey(kind, column, values)) || null;
  }

  recordVote(kind, values, rowId = null) {
    // A retracted vote's tombstone wins whenever the vote itself arrives (DESIGN §2).
    if (this.retracted(kind, values)) return false;
    const known = this.myVotes.find((v) => v.kind === kind && sameValues(v.values, values));
    if (known) {
      if (!known.rowId && rowId) known.rowId = rowId;
      return false;
    }
    this.myVotes.push({ kind, values: { ...values }, rowId });
    return true;
  }

  /** Tombstone this worker's vote (kind, values) and drop the record; false if already retracted. */
  retractVote(kind, values) {
    if (this.retracted(kind, values)) return false;
    this.myRetracted.push({ kind, values: { ...values } });
    this.myVotes = this.myVotes.filter((v) => !(v.kind === kind && sameValues(v.values, values)));
    return true;
  }

  retracted(kind, values) {
    return this.myRetracted.some((v) => v.kind === kind && sameValues(v.values, values));
  }

  /**
   * The vote "undo" on a row would take back: a record on exactly its values, else a downvote on a
   * part of it whose row is known (the retract must name the row holding the voted values).
   * Returns {kind, values, rowId} or null.
   */
  undoableVoteOn(rowId, values) {
    const exact = this.myVotes.find((v) => sameValues(v.values, values));
    if (exact) return { kind: exact.kind, values: exact.values, rowId };
    const part = this.myVotes.find((v) => v.kind === "down" && v.rowId && subsetOf(v.values, values));
    return part ? { kind: part.kind, values: part.values, rowId: part.rowId } : null;
  }

  /** How this worker counts on a row: "up", "down" (directly or through a part of it) or null. */
  myVoteOn(values) {
    if (this.myVotes.some((v) => v.kind === "up" && sameValues(v.values, values))) return "up";
    if (this.myVotes.some((v) => v.kind === "down" && subsetOf(v.values, values))) return "down";
    return null;
  }

  canUpvote(values) {
    return this.isComplete(values) && this.myVoteOn(values) === null && !this.retracted("up", values);
  }

  /** A downvote also counts against every row holding these values, so none of them may carry my vote. */
  canDownvote(values, isProtected) {
    if (Object.keys(values).length === 0 || isProtected(values) || this.retracted("down", values)) return false;
    for (const other of this.rows.values()) {
      if (subsetOf(values, other) && this.myVoteOn(other) !== null) return false;
    }
    return true;
  }

  liveRows() {
    return this.order.map((id) => ({ row_id: id, values: this.rows.get(id) }));
  }

  /** Follow replacements from `rowId` to the row that holds its values now, if any is live. */
  successor(rowId) {
    let id = rowId;
    for (let hops = 0; hops < 1000 && !this.rows.has(id); hops++) {
      const next = this.replacedBy.get(id);
      if (!next) return null;
      id = next;
    }
    return this.rows.has(id) ? id : null;
  }
}

function normaliseKind(kind) {
  return kind === "upvote" || kind === "up" || kind === "+" ? "up" : "down";
}

/**
 * The highest sequence number below which this client has seen every operation. Own acks and
 * others' ops may arrive out of order, so a gap is remembered until it closes.
 */
export class SeqTracker {
  constructor() {
    this.last = 0;
    this.ahead = new Set();
  }

  reset(seq) {
    this.last = seq || 0;
    this.ahead.clear();
  }

  /** The highest sequence number seen (past `last` when a gap is still open). */
  max() {
    return Math.max(this.last, ...this.ahead);
  }

  note(seq) {
    if (typeof seq !== "number" || seq <= this.last) return;
    this.ahead.add(seq);
    while (this.ahead.has(this.last + 1)) {
      this.last += 1;
      this.ahead.delete(this.last);
    }
  }
}

function annotationKey(kind, column, values) {
  const items = Object.keys(values)
    .sort()
    .map((k) => [k, values[k]]);
  return JSON.stringify([kind, column, items]);
}
