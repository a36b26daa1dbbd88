// What the moderator page says after an action: the bar at the bottom of the screen (always in view, with undo
// where the action can be undone; announced to screen readers), the texts for the server's refusals, and the
// buttons every card uses.
import { el } from "../../lib/dom.js";
import { t } from "../../lib/i18n.js";

export const ERROR_TEXTS = Object.freeze({
  version_conflict: t("Jemand anderes hat diese Frage gerade geändert. Bitte prüfen Sie die andere Fassung."),
  changed_since: t("Die Frage wurde seitdem geändert; bitte von Hand korrigieren."),
  nothing_to_undo: t("Es gibt keine eigene Aktion mehr zum Rückgängigmachen."),
  already_undone: t("Diese Aktion ist schon rückgängig gemacht."),
  unauthorized: t("Ihre Anmeldung ist abgelaufen. Bitte neu anmelden."),
  network: t("Keine Verbindung zum Server. Die Aktion wurde nicht ausgeführt."),
  held_question: t("Diese Frage wurde zurückgehalten. Bitte geben Sie sie zuerst frei, dann kann sie auf Sendung."),
  device_unknown: t("Das Gerät dieser Frage ist nicht mehr bekannt (nach Ablauf der Aufbewahrungsfrist)."),
  storage_unavailable: t("Der Server kann gerade nichts speichern. Die Aktion wurde nicht ausgeführt."),
});

const toast = document.querySelector("[data-toast]");
const bar = document.querySelector("[data-snackbar]");
const undoButton = document.querySelector("[data-snackbar-undo]");
let undoAction = null;
let hideTimer = null;

if (bar) {
  undoButton.addEventListener("click", () => {
    const action = undoAction;
    undoAction = null;
    undoButton.hidden = true;
    if (action) action();
  });
  document.querySelector("[data-snackbar-close]").addEventListener("click", () => {
    bar.hidden = true;
  });
}

/** `undo`: a function that undoes what was just done; the bar then offers it. */
export function say(text, kind = "ok", { undo = null } = {}) {
  toast.textContent = text;
  toast.dataset.kind = kind;
  if (!bar) return;
  bar.hidden = false;
  bar.dataset.kind = kind;
  undoAction = undo;
  undoButton.hidden = !undo;
  clearTimeout(hideTimer);
  // Errors stay until closed or replaced; a confirmation goes after a while (its undo stays in the activity list).
  if (kind === "ok") hideTimer = setTimeout(() => { bar.hidden = true; }, 12000);
}

/** What the toast says right now (a card far below repeats it). */
export function toastText() {
  return toast.textContent;
}

export function explain(error) {
  if (error.status === 401) {
    location.href = `/login?next=${encodeURIComponent(location.pathname)}`;
  }
  say(ERROR_TEXTS[error.code] || t("Aktion nicht möglich: {reason}", { reason: error.message || error.code }), "error");
}

export function shorten(text) {
  return text.length > 60 ? text.slice(0, 57) + "…" : text;
}

export function actionButton(label, action, onclick, extraClass = "", attributes = {}) {
  return el("button", { type: "button", class: `button ${extraClass}`.trim(), "data-action": action, onclick, ...attributes },
    label);
}
