// Where the overlay's lower third sits on its transparent 1920×1080 canvas: the producer places it with query
// parameters (see docs/obs.md); a smaller preview shows the canvas scaled.
const CANVAS = { width: 1920, height: 1080 };

function choice(value, allowed, fallback) {
  return allowed.includes(value) ? value : fallback;
}

function number(value, { min, max, fallback }) {
  const parsed = Number.parseFloat(value ?? "");
  return Number.isFinite(parsed) ? Math.min(max, Math.max(min, parsed)) : fallback;
}

export function applyPlacement(canvas) {
  const query = new URLSearchParams(location.search);
  const body = document.body;
  const position = choice(query.get("position"), ["bottom", "top"], "bottom");
  const align = choice(query.get("align"), ["left", "center", "right"], "left");
  const theme = choice(query.get("theme"), ["dark", "light"], "dark");
  body.classList.remove("pos-bottom", "pos-top", "align-left", "align-center", "align-right", "theme-dark", "theme-light");
  body.classList.add(`pos-${position}`, `align-${align}`, `theme-${theme}`);
  // CSSOM, not style attributes: the Content-Security-Policy allows no inline styles.
  canvas.style.setProperty("--scale", String(number(query.get("scale"), { min: 0.5, max: 2, fallback: 1 })));
  canvas.style.setProperty("--margin", `${Math.round(number(query.get("margin"), { min: 0, max: 400, fallback: 60 }))}px`);
}

/** The canvas is designed at 1920×1080; a smaller preview (the moderator's iframe, a laptop) shows it scaled. */
export function fitCanvas(canvas) {
  const factor = Math.min(window.innerWidth / CANVAS.width, window.innerHeight / CANVAS.height) || 1;
  canvas.style.transform = factor === 1 ? "" : `scale(${factor})`;
}
