// Reactions: one-tap buttons (viewer page) and the live meter of how many devices reacted recently (both pages).
import { api, eventEndpoints } from "../lib/api.js";
import { announce, el } from "../lib/dom.js";
import { LOCALE, t } from "../lib/i18n.js";
import { MessageType, REACTION_KINDS } from "../lib/protocol.js";

export const REACTIONS = Object.freeze({
  applause: { emoji: "👏", label: t("Applaus") },
  thumbs_up: { emoji: "👍", label: t("Daumen hoch") },
  heart: { emoji: "❤️", label: t("Herz") },
  thinking: { emoji: "🤔", label: t("Nachdenklich") },
});

// The server counts a device once per kind within its window; more frequent sends would only be noise.
const RESEND_AFTER_MS = 2000;
const SUMMARY_EVERY_MS = 5000;
const DEFAULT_WINDOW = 10;

/**
 * Builds the reaction buttons into `container`. `live` is the page's connection (`connectLive`): reactions go
 * over the websocket, and over HTTP when it is not open right now.
 */
export function setUpReactionButtons(container, { slug, live }) {
  const lastSent = new Map();
  const address = eventEndpoints(slug).reactions();
  const buttons = REACTION_KINDS.map((kind) => {
    const { emoji, label } = REACTIONS[kind];
    const button = el("button", {
      type: "button", class: "reaction-button", "aria-label": label, title: label, "data-reaction": kind,
    }, el("span", { class: "reaction-emoji", "aria-hidden": "true" }, emoji));
    button.addEventListener("click", () => {
      // A short pop says "sent" to the eye; the sentence in the live region says it to the ear.
      button.classList.remove("is-sent");
      void button.offsetWidth; // restart the animation
      button.classList.add("is-sent");
      announce(t("{reaction} gesendet.", { reaction: label }));
      const now = Date.now();
      if (now - (lastSent.get(kind) || 0) < RESEND_AFTER_MS) return;
      lastSent.set(kind, now);
      const message = { type: MessageType.REACT, kind };
      if (!live || !live.send(message)) {
        api("POST", address, { kind }).catch(() => {});
      }
    });
    button.addEventListener("animationend", () => button.classList.remove("is-sent"));
    return button;
  });
  container.replaceChildren(...buttons);
}

/**
 * The meter: per kind an emoji, a bar and the count of devices within the window. The moving part is hidden
 * from screen readers; a text summary stands in for it, refreshed now and then and never announced by itself.
 */
export class ReactionMeter {
  constructor(element, { title = null } = {}) {
    this.element = element;
    this.counts = Object.fromEntries(REACTION_KINDS.map((kind) => [kind, 0]));
    this.window = DEFAULT_WINDOW;
    this.rows = new Map();
    this.summaryAt = 0;
    this.summaryTimer = null;
    const visual = el("ul", { class: "meter-visual", "aria-hidden": "true" });
    for (const kind of REACTION_KINDS) {
      const fill = el("span", { class: "meter-fill" });
      const count = el("span", { class: "meter-count" }, "0");
      const row = el("li", { class: "meter-row", "data-kind": kind },
        el("span", { class: "meter-emoji" }, REACTIONS[kind].emoji),
        el("span", { class: "meter-bar" }, fill),
        count);
      this.rows.set(kind, { row, fill, count });
      visual.append(row);
    }
    this.summary = el("p", { class: "visually-hidden", "data-reaction-summary": true });
    element.replaceChildren(...(title ? [title] : []), visual, this.summary);
    this.draw();
    this.writeSummary();
  }

  update(message) {
    if (message.type !== MessageType.REACTIONS) return;
    if (typeof message.window_seconds === "number") this.window = message.window_seconds;
    const before = this.counts;
    this.counts = Object.fromEntries(REACTION_KINDS.map((kind) => [kind, Number(message.counts?.[kind]) || 0]));
    this.draw(before);
    this.scheduleSummary();
  }

  draw(before = null) {
    const top = Math.max(1, ...Object.values(this.counts));
    let total = 0;
    for (const kind of REACTION_KINDS) {
      const { row, fill, count } = this.rows.get(kind);
      const value = this.counts[kind];
      total += value;
      count.textContent = new Intl.NumberFormat(LOCALE).format(value);
      fill.style.width = `${Math.round((100 * value) / top)}%`;
      row.classList.toggle("is-zero", value === 0);
      if (before && value > before[kind]) {
        row.classList.remove("is-bumped");
        void row.offsetWidth; // restart the animation
        row.classList.add("is-bumped");
      }
    }
    this.element.dataset.total = String(total);
  }

  scheduleSummary() {
    if (this.summaryTimer) return;
    const wait = Math.max(0, this.summaryAt + SUMMARY_EVERY_MS - Date.now());
    this.summaryTimer = setTimeout(() => {
      this.summaryTimer = null;
      this.writeSummary();
    }, wait);
  }

  writeSummary() {
    this.summaryAt = Date.now();
    const parts = REACTION_KINDS.filter((kind) => this.counts[kind] > 0)
      .map((kind) => `${REACTIONS[kind].label} ${this.counts[kind]}`);
    this.summary.textContent = parts.length
      ? t("Reaktionen der letzten {seconds} Sekunden: {counts}.", { seconds: this.window, counts: parts.join(", ") })
      : t("Reaktionen der letzten {seconds} Sekunden: keine.", { seconds: this.window });
  }
}
