// The overlay for OBS/vMix browser sources: a lower third that follows the moderator's screen choice on a
// transparent 1920×1080 canvas. The producer places it with query parameters (see docs/obs.md).
import { pageConfig } from "../lib/api.js";
import { t } from "../lib/i18n.js";
import { connectLive } from "../lib/live.js";
import { PollStore, renderResults } from "../features/polls.js";
import { MessageType } from "../lib/protocol.js";
import { askerLine, perFrame, QuestionStore } from "../features/questions.js";

const CANVAS = { width: 1920, height: 1080 };
const TOP_WORDS = 8;
const LONG_QUESTION = 160; // characters; longer questions get a smaller type so the lower third stays low
const OUT_MS = 400; // as the CSS transition

const config = pageConfig();
const questions = new QuestionStore({ staff: true });
const polls = new PollStore({ staff: true });
let screen = { mode: "none", poll_id: null };

const $ = (selector) => document.querySelector(selector);
const canvas = $("[data-canvas]");
const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)");

// ---------------------------------------------------------------- placement from the query

function choice(value, allowed, fallback) {
  return allowed.includes(value) ? value : fallback;
}

function number(value, { min, max, fallback }) {
  const parsed = Number.parseFloat(value ?? "");
  return Number.isFinite(parsed) ? Math.min(max, Math.max(min, parsed)) : fallback;
}

function applyPlacement() {
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
function fitCanvas() {
  const factor = Math.min(window.innerWidth / CANVAS.width, window.innerHeight / CANVAS.height) || 1;
  canvas.style.transform = factor === 1 ? "" : `scale(${factor})`;
}

// ---------------------------------------------------------------- what to show

function applyScreen(message) {
  const next = message.type === MessageType.SCREEN ? message.screen
    : message.type === MessageType.SNAPSHOT || message.type === MessageType.EVENT ? message.event && message.event.screen
      : null;
  if (next) screen = { mode: next.mode || "none", poll_id: next.poll_id ?? null };
}

/** The panel to show and a key that changes when it must leave and come back (another question, another poll). */
function wanted() {
  if (screen.mode === "question") {
    const question = questions.onAir;
    return question ? { panel: "question", key: JSON.stringify([question.id, question.text, question.name]) } : null;
  }
  if (screen.mode === "poll") {
    const poll = screen.poll_id === null ? null : polls.get(screen.poll_id);
    return poll && poll.state !== "draft" ? { panel: "poll", key: `poll-${poll.id}` } : null;
  }
  if (screen.mode === "join") return { panel: "join", key: "join" };
  return null;
}

function fillQuestion() {
  const question = questions.onAir;
  if (!question) return;
  $("[data-lt-text]").textContent = question.text;
  $("[data-lt-name]").textContent = askerLine(questions.event, question);
  panel("question").classList.toggle("is-long", question.text.length > LONG_QUESTION);
}

let pollSig = "";

function fillPoll() {
  const poll = screen.poll_id === null ? null : polls.get(screen.poll_id);
  if (!poll) return;
  const sig = JSON.stringify([poll.id, poll.title, poll.state, poll.results]);
  if (sig === pollSig) return;
  pollSig = sig;
  $("[data-lt-poll-title]").textContent = poll.title;
  $("[data-lt-poll-state]").textContent = " · " + (poll.state === "closed" ? t("Ergebnis") : t("läuft"));
  let shown = poll;
  if (!poll.results) {
    // Just launched (or results not yet sent): zero answers rather than an empty panel.
    const results = { total: 0, mean: null, words: [] };
    results.options = (poll.options || []).map((option) => ({ id: option.id, count: 0, percent: 0 }));
    results.values = Array.from({ length: poll.scale_max || 0 }, (_, i) => ({ value: i + 1, count: 0, percent: 0 }));
    shown = { ...poll, results };
  } else if (poll.kind === "words") {
    shown = { ...poll, results: { ...poll.results, words: (poll.results.words || []).slice(0, TOP_WORDS) } };
  }
  const box = renderResults(shown, { heading: poll.state === "closed" ? t("Ergebnis") : t("Bisher") });
  $("[data-lt-poll-results]").replaceChildren(...(box ? [box] : []));
}

function panel(name) {
  return document.querySelector(`[data-panel="${name}"]`);
}

function fill(name) {
  if (name === "question") fillQuestion();
  else if (name === "poll") fillPoll();
}

let current = null;
let swapTimer = null;

const draw = perFrame(() => {
  const next = wanted();
  if (current && next && current.panel === next.panel && current.key === next.key) {
    // Results move in place while the panel stays (not while it is still leaving for another poll).
    if (next.panel === "poll" && panel("poll").classList.contains("is-shown")) fillPoll();
    return;
  }
  clearTimeout(swapTimer);
  const leaving = current;
  if (leaving) panel(leaving.panel).classList.remove("is-shown");
  current = next;
  if (!next) return;
  const enter = () => {
    pollSig = "";
    fill(next.panel);
    panel(next.panel).classList.add("is-shown");
  };
  // Out first, then in with the new content: a lower third never changes its text while on screen.
  if (leaving && !reducedMotion.matches) swapTimer = setTimeout(enter, OUT_MS);
  else enter();
});

function onMessage(message) {
  if (message.type === MessageType.SNAPSHOT && config.role === "studio" && message.role !== "studio") {
    // The link was revoked: take everything off screen and stop.
    live.stop();
    screen = { mode: "none", poll_id: null };
    draw();
    return;
  }
  applyScreen(message);
  questions.apply(message);
  polls.apply(message);
  draw();
}

applyPlacement();
fitCanvas();
window.addEventListener("resize", fitCanvas);
const live = connectLive({ slug: config.slug, studio: config.token, onMessage, onStatus: () => {} });
