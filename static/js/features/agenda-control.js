// The moderator's agenda: which item is on now ("Jetzt"), shown to viewers and timed on the presenter screen.
import { api } from "../lib/api.js";
import { el } from "../lib/dom.js";
import { t } from "../lib/i18n.js";
import { formatTime } from "../lib/time.js";
import { currentAgendaItem, timeLeftText } from "./agenda.js";

export class AgendaControl {
  constructor(root, { urls, explain }) {
    this.root = root;
    this.urls = urls;
    this.explain = explain;
    this.event = null;
    this.list = root.querySelector("[data-mod-agenda-list]");
    this.feedback = root.querySelector("[data-mod-agenda-feedback]");
    this.signature = "";
  }

  update(event) {
    this.event = event;
    const current = currentAgendaItem(event);
    this.root.querySelector("[data-mod-agenda-left]").textContent = timeLeftText(current)
      || t("Kein Programmpunkt als laufend markiert.");
    const agenda = (event && event.agenda) || [];
    this.root.querySelector("[data-mod-agenda-empty]").hidden = agenda.length > 0;
    this.root.querySelector(".mod-agenda-details").hidden = agenda.length === 0;
    const marked = event && event.current_agenda ? event.current_agenda.item_id : null;
    // One button moves on to the next item: the usual step during a live programme.
    const next = agenda[marked === null ? 0 : agenda.findIndex((item) => item.id === marked) + 1];
    const nextButton = this.root.querySelector("[data-mod-agenda-next]");
    nextButton.hidden = !next;
    if (next) {
      nextButton.textContent = marked === null
        ? t("Start: {title}", { title: next.title }) : t("Weiter: {title}", { title: next.title });
      nextButton.onclick = () => this.mark(next.id);
    }
    const signature = JSON.stringify([agenda, marked]);
    if (signature === this.signature) return;
    this.signature = signature;
    const focused = this.list.contains(document.activeElement) ? document.activeElement.dataset.itemId : null;
    this.list.replaceChildren(...agenda.map((item) => {
      const isCurrent = item.id === marked;
      return el("li", { class: isCurrent ? "is-current" : "" },
        el("span", {},
          item.starts_at ? el("time", { class: "mod-agenda-time", datetime: item.starts_at }, formatTime(item.starts_at)) : null,
          item.title),
        el("button", {
          type: "button", class: `button ${isCurrent ? "button-primary" : ""}`.trim(), "aria-pressed": String(isCurrent),
          "aria-label": t("Jetzt: {title}", { title: item.title }), dataset: { itemId: String(item.id) },
          onclick: () => this.mark(isCurrent ? null : item.id),
        }, t("Jetzt")));
    }));
    if (focused) this.list.querySelector(`[data-item-id="${focused}"]`)?.focus();
  }

  async mark(itemId) {
    try {
      await api("PUT", this.urls.agendaCurrent(), { item_id: itemId });
      const item = ((this.event && this.event.agenda) || []).find((candidate) => candidate.id === itemId);
      this.feedback.textContent = item
        ? t("Jetzt läuft: {title}", { title: item.title }) : t("Kein Programmpunkt als laufend markiert.");
      this.feedback.className = "form-feedback is-ok";
    } catch (error) {
      this.feedback.textContent = t("Das ging nicht: {reason}", { reason: error.message || error.code });
      this.feedback.className = "form-feedback is-error";
      if (error.status === 401) this.explain(error);
    }
  }
}
