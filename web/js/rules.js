// Column rules (min, max, max_length, pattern): the hints a worker sees, and the check made before
// a value is sent. The server checks every value again. Patterns use the subset documented in
// docs/protocol.md, chosen so that JavaScript's RegExp (with the u flag) means the same as the
// server's own engine: \d and \w are ASCII in both, "." stops at the same line terminators.

const regexes = new Map(); // pattern -> RegExp, or null when this browser cannot compile it

function regexFor(pattern) {
  if (!regexes.has(pattern)) {
    let regex = null;
    try {
      regex = new RegExp(`^(?:${pattern})$`, "u");
    } catch {
      regex = null; // the server refused such patterns at definition; leave the check to it
    }
    regexes.set(pattern, regex);
  }
  return regexes.get(pattern);
}

const has = (column, rule) => column[rule] !== undefined && column[rule] !== null;

/** Short descriptions of the column's rules, to show as plain text (never as HTML). */
export function ruleHints(column) {
  const hints = [];
  if (has(column, "min")) hints.push(`min ${column.min}`);
  if (has(column, "max")) hints.push(`max ${column.max}`);
  if (has(column, "max_length")) hints.push(`≤ ${column.max_length} characters`);
  if (has(column, "pattern")) hints.push(`pattern ${column.pattern}`);
  return hints;
}

/** Code points, as the server counts them (an emoji is one character, not two UTF-16 units). */
export function codePoints(text) {
  return [...text].length;
}

/**
 * The first rule `value` (already parsed to the column's type) breaks, as {rule, error}, or null.
 * Dates are YYYY-MM-DD strings, so comparing them as text compares them as dates.
 */
export function brokenRule(column, value) {
  const name = column.name;
  if (has(column, "min") && value < column.min) {
    return { rule: "min", error: `${name} must be at least ${column.min} (rule: min)` };
  }
  if (has(column, "max") && value > column.max) {
    return { rule: "max", error: `${name} must be at most ${column.max} (rule: max)` };
  }
  if (typeof value !== "string") return null;
  if (has(column, "max_length") && codePoints(value) > column.max_length) {
    return { rule: "max_length", error: `${name} takes at most ${column.max_length} characters (rule: max_length)` };
  }
  if (has(column, "pattern")) {
    const regex = regexFor(column.pattern);
    if (regex && !regex.test(value)) {
      return { rule: "pattern", error: `${name} must match the pattern ${column.pattern} (rule: pattern)` };
    }
  }
  return null;
}
