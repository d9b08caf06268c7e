// Thumb icons drawn as inline SVG: emoji fonts are missing on many Linux machines, and an icon
// font or image would be one more file to fetch. Decorative only; buttons carry aria-labels.

const SVG = "http://www.w3.org/2000/svg";

/** A thumbs-up (kind "up") or thumbs-down (kind "down") icon. */
export function thumb(kind) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "18");
  svg.setAttribute("height", "18");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  svg.classList.add("icon", `thumb-${kind}`);
  const group = document.createElementNS(SVG, "g");
  if (kind === "down") group.setAttribute("transform", "rotate(180 12 12)");
  // Cuff, then the fist with the raised thumb, in one outline each.
  const cuff = document.createElementNS(SVG, "rect");
  for (const [name, value] of Object.entries({ x: 2.5, y: 10, width: 4, height: 10.5, rx: 1 })) cuff.setAttribute(name, String(value));
  const hand = document.createElementNS(SVG, "path");
  hand.setAttribute("d", "M8.5 10.5 L12 3.6 C12.6 2.5 14.6 2.8 14.6 4.4 L14 9.5 H19.2 C20.4 9.5 21.3 10.6 21 11.8 L19.4 19 C19.2 20 18.3 20.5 17.4 20.5 H8.5 Z");
  group.append(cuff, hand);
  svg.append(group);
  return svg;
}
