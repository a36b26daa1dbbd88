// The moderator's control of the studio views: one choice of what the presenter screen and the overlay show,
// and the read-only studio links for machines without a login.
import { api } from "../lib/api.js";
import { el } from "../lib/dom.js";
import { t } from "../lib/i18n.js";
import { MessageType } from "../lib/protocol.js";
import { formatTime } from "../lib/time.js";

const MODE_DONE = {
  none: t("Im Studio wird jetzt nichts gezeigt (nur der Titel)."),
  question: t("Im Studio wird jetzt die Frage auf Sendung gezeigt."),
  poll: t("Im Studio wird jetzt das Umfrage-Ergebnis gezeigt."),
  join: t("Im Studio wird jetzt die Mitmach-Folie gezeigt."),
};
const VIEW_LABELS = { present: t("Präsentations-Bildschirm"), overlay: t("Overlay") };

export class StudioControl {
  constructor(root, { urls, explain }) {
    this.root = root;
    this.urls = urls;
    this.explain = explain;
    this.screen = { mode: "none", poll_id: null, pinned: false };
    this.polls = [];
    this.radios = [...root.querySelectorAll("[data-screen-mode]")];
    this.pollSelect = root.querySelector("[data-screen-poll]");
    this.feedback = root.querySelector("[data-screen-feedback]");
    this.pin = root.querySelector("[data-screen-pin]");
    this.note = document.querySelector("[data-screen-note]");
    this.pin.addEventListener("change", () => this.choose(this.screen.mode));
    for (const radio of this.radios) radio.addEventListener("change", () => radio.checked && this.choose(radio.value));
    this.pollSelect.addEventListener("change", () => {
      if (this.pollSelect.value) this.choose("poll");
    });
    this.links = root.querySelector("[data-studio-links]");
    this.links.addEventListener("toggle", () => this.links.open && this.loadLinks());
    root.querySelector("[data-studio-link-form]").addEventListener("submit", (event) => {
      event.preventDefault();
      this.createLink(event.target);
    });
    root.querySelector("[data-studio-link-copy]").addEventListener("click", () => this.copyLink());
  }

  /** Follows the snapshot and the `screen`, `event` and `on_air` messages; true when something changed. */
  apply(message, store = null) {
    if (store) this.store = store;
    let screen = null;
    if (message.type === MessageType.SCREEN || message.type === MessageType.ON_AIR) screen = message.screen;
    else if (message.type === MessageType.SNAPSHOT || message.type === MessageType.EVENT) screen = message.event?.screen;
    if (!screen) return false;
    this.screen = { mode: screen.mode, poll_id: screen.poll_id ?? null, pinned: Boolean(screen.pinned) };
    this.render();
    return true;
  }

  /** Next to the question on air: when the screen does not show it (pinned poll or slide), the console says so. */
  drawNote(store) {
    const labels = { none: t("den Titel"), poll: t("die Umfrage"), join: t("die Mitmach-Folie") };
    let text = "";
    if (this.screen.mode !== "question") {
      text = this.screen.pinned
        ? t("Festgehalten: Bildschirm und Overlay zeigen weiter {what}. Eine Frage auf Sendung erscheint dort erst, wenn Sie „Die Frage auf Sendung“ wählen.", { what: labels[this.screen.mode] })
        : store.onAir
          ? t("Bildschirm und Overlay zeigen gerade {what}, nicht die Frage auf Sendung.", { what: labels[this.screen.mode] })
          : t("„Auf Sendung“ zeigt die Frage auch auf Bildschirm und Overlay.");
    }
    this.note.hidden = !text;
    this.note.textContent = text;
  }

  /** The polls that can go on screen: launched ones (open or closed). */
  setPolls(polls) {
    const launched = polls.filter((poll) => poll.state !== "draft");
    const signature = JSON.stringify(launched.map((poll) => [poll.id, poll.title, poll.state]));
    if (signature === this.pollSignature) return;
    this.pollSignature = signature;
    this.polls = launched;
    this.render();
  }

  render() {
    const wanted = this.pollSelect.value;
    const options = this.polls.map((poll) => el("option", { value: String(poll.id) },
      poll.state === "open" ? t("{title} (läuft)", { title: poll.title }) : t("{title} (beendet)", { title: poll.title })));
    this.pollSelect.replaceChildren(...(options.length ? options
      : [el("option", { value: "" }, t("– keine gestartete Umfrage –"))]));
    const selected = this.screen.mode === "poll" ? String(this.screen.poll_id) : wanted;
    if (this.polls.some((poll) => String(poll.id) === selected)) this.pollSelect.value = selected;
    else if (this.polls.length) this.pollSelect.value = String(this.polls[this.polls.length - 1].id);
    this.pollSelect.disabled = this.polls.length === 0;
    for (const radio of this.radios) {
      radio.checked = radio.value === this.screen.mode;
      if (radio.value === "poll") radio.disabled = this.polls.length === 0;
    }
    this.pin.checked = this.screen.pinned;
    this.pin.disabled = this.screen.mode === "question";
    if (this.store) this.drawNote(this.store);
  }

  async choose(mode) {
    const body = { mode, pinned: mode !== "question" && this.pin.checked };
    if (mode === "poll") body.poll_id = Number(this.pollSelect.value);
    try {
      const screen = await api("PUT", this.urls.screen(), body);
      this.screen = screen;
      this.feedback.textContent = MODE_DONE[screen.mode] + (screen.pinned ? " " + t("(festgehalten)") : "");
      this.feedback.className = "form-feedback is-ok";
    } catch (error) {
      this.feedback.textContent = error.code === "poll_not_launched"
        ? t("Diese Umfrage ist noch nicht gestartet.")
        : t("Das ging nicht: {reason}", { reason: error.message || error.code });
      this.feedback.className = "form-feedback is-error";
      if (error.status === 401) this.explain(error);
    }
    this.render();
  }

  async loadLinks() {
    try {
      const { links } = await api("GET", this.urls.studioLinks());
      this.renderLinks(links);
    } catch (error) {
      this.linkFeedback(t("Die Studio-Links konnten nicht geladen werden: {reason}", { reason: error.message || error.code }),
        "error");
    }
  }

  renderLinks(links) {
    const list = this.root.querySelector("[data-studio-link-list]");
    list.replaceChildren(...links.slice().reverse().map((link) => {
      const name = `${VIEW_LABELS[link.view]}${link.label ? `: ${link.label}` : ""}`;
      const made = t("erstellt {time} Uhr", { time: formatTime(link.created_at) });
      return el("li", { dataset: { id: String(link.id) } },
        el("span", { class: link.revoked_at ? "is-revoked" : "" }, `${name} (${made})`),
        link.revoked_at
          ? el("span", { class: "badge" }, t("widerrufen"))
          : el("button", {
            type: "button", class: "button button-danger", "data-action": "revoke",
            "aria-label": t("Link widerrufen: {name}", { name }), onclick: () => this.revoke(link),
          }, t("Widerrufen")));
    }));
  }

  async createLink(form) {
    const body = { view: form.elements.view.value, label: form.elements.label.value.trim() };
    try {
      const link = await api("POST", this.urls.studioLinks(), body);
      const box = this.root.querySelector("[data-studio-link-new]");
      const url = this.root.querySelector("[data-studio-link-url]");
      box.hidden = false;
      url.value = link.url;
      url.focus();
      url.select();
      form.elements.label.value = "";
      this.linkFeedback(t("Link für {view} erstellt.", { view: VIEW_LABELS[link.view] }), "ok");
      await this.loadLinks();
    } catch (error) {
      this.linkFeedback(t("Der Link konnte nicht erstellt werden: {reason}", { reason: error.message || error.code }), "error");
    }
  }

  async copyLink() {
    const url = this.root.querySelector("[data-studio-link-url]");
    try {
      await navigator.clipboard.writeText(url.value);
      this.linkFeedback(t("Link kopiert."), "ok");
    } catch {
      url.select();
      this.linkFeedback(t("Kopieren ging nicht automatisch: Der Link ist markiert, bitte mit Strg+C kopieren."), "error");
    }
  }

  async revoke(link) {
    try {
      await api("DELETE", this.urls.studioLink(link.id));
      this.linkFeedback(t("Link widerrufen: Er öffnet die Ansicht nicht mehr."), "ok");
      if (this.root.querySelector("[data-studio-link-url]").value.includes("token=")) {
        this.root.querySelector("[data-studio-link-new]").hidden = true;
        this.root.querySelector("[data-studio-link-url]").value = "";
      }
      await this.loadLinks();
    } catch (error) {
      this.linkFeedback(t("Widerrufen ging nicht: {reason}", { reason: error.message || error.code }), "error");
    }
  }

  linkFeedback(text, kind) {
    const feedback = this.root.querySelector("[data-studio-link-feedback]");
    feedback.textContent = text;
    feedback.className = `form-feedback is-${kind}`;
  }
}
