// Editing a question in its card: the text itself, or the written answer. Ctrl+Enter saves, Escape leaves.
//
// An editor is made once and kept while it is open: live updates redraw the card around it, never the editor, so
// nothing typed is lost. It remembers the version it started from; when a colleague changes the same field
// meanwhile it shows their version and lets the moderator keep theirs, take the other, or merge by hand, and it
// saves with the version it has seen, so the server refuses a silent overwrite (409 version_conflict).
import { el } from "../../lib/dom.js";
import { t } from "../../lib/i18n.js";
import { LIMITS } from "../../lib/limits.js";
import { actionButton } from "./feedback.js";

const KINDS = {
  text: {
    field: (question) => question.text,
    label: () => t("Text der Frage bearbeiten"),
    limit: () => LIMITS.question_text,
    rows: 3,
    saveLabel: () => t("Speichern"),
  },
  answer: {
    field: (question) => question.answer || "",
    label: () => t("Schriftliche Antwort (für alle sichtbar, wo die Frage sichtbar ist)"),
    limit: () => LIMITS.answer,
    rows: 4,
    saveLabel: () => t("Antwort speichern"),
  },
};

/**
 * `kind`: "text" or "answer". `save(value, version)` sends it, `stop()` closes the editor unchanged;
 * `whoChanged(question)` names the colleague who last changed it, if known.
 */
export function createEditor(kind, question, { save, stop, whoChanged }) {
  const spec = KINDS[kind];
  const id = `${kind === "text" ? "edit" : "answer"}-${question.id}`;
  let base = { version: question.version, value: spec.field(question) };
  let theirs = null; // the colleague's version while the notice is open
  let merging = false;
  const textarea = el("textarea", {
    id, rows: spec.rows, maxlength: spec.limit(), "data-action": kind === "text" ? "edit-text" : "answer-text",
  });
  textarea.value = base.value;
  const notice = el("div", { class: "edit-conflict", role: "alert", hidden: true, "data-edit-conflict": true });
  const status = el("p", { class: "edit-status", role: "status", "aria-live": "polite" });
  const value = () => (kind === "answer" ? textarea.value.trim() : textarea.value);
  const doSave = () => save(value(), base.version);
  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      stop();
    }
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      doSave();
    }
  });
  const box = el("div", { class: `editor editor-${kind}`, "data-editor": kind },
    el("label", { for: id }, spec.label()),
    textarea,
    notice,
    el("div", { class: "actions" },
      actionButton(spec.saveLabel(), kind === "text" ? "save" : "save-answer", doSave, "button-primary"),
      actionButton(t("Abbrechen"), "cancel", stop, "button-quiet")),
    status);

  function drawNotice(question) {
    if (!theirs) {
      notice.hidden = true;
      notice.replaceChildren();
      return;
    }
    const who = whoChanged(question);
    notice.hidden = false;
    notice.replaceChildren(
      el("p", { class: "edit-conflict-head" }, who && who.mine
        ? t("Sie haben das inzwischen an anderer Stelle geändert (anderes Fenster oder Gerät):")
        : who && who.name ? t("{name} hat das inzwischen geändert:", { name: who.name })
          : t("Jemand anderes hat das inzwischen geändert:")),
      el("blockquote", { class: "edit-conflict-theirs" }, theirs.value || t("(leer)")),
      merging
        ? el("p", { class: "hint" }, t("Führen Sie beide Fassungen im Feld zusammen und speichern Sie dann."))
        : el("div", { class: "actions" },
          actionButton(t("Meine Fassung behalten"), "keep-mine", keepMine, "button-small"),
          actionButton(t("Diese Fassung übernehmen"), "take-theirs", takeTheirs, "button-small"),
          actionButton(t("Von Hand zusammenführen"), "merge", merge, "button-small button-quiet")));
  }

  function accept(question) {
    base = { version: question.version, value: spec.field(question) };
  }

  let latest = question;
  function keepMine() {
    accept(latest);
    theirs = null;
    merging = false;
    drawNotice(latest);
    status.textContent = t("Ihre Fassung bleibt; Speichern ersetzt die andere.");
    textarea.focus();
  }

  function takeTheirs() {
    accept(latest);
    textarea.value = base.value;
    theirs = null;
    merging = false;
    drawNotice(latest);
    status.textContent = t("Die andere Fassung ist übernommen.");
    textarea.focus();
  }

  function merge() {
    accept(latest);
    merging = true;
    drawNotice(latest);
    textarea.focus();
  }

  /** The question as it is now: a change to the edited field by someone else opens the notice. */
  function update(question) {
    latest = question;
    if (question.version === base.version) return;
    const now = spec.field(question);
    if (now === base.value || now === value()) {
      // Nothing changed in what is being edited (or they wrote the same): carry on from the new version.
      const wasOpen = Boolean(theirs);
      accept(question);
      if (wasOpen && now === value()) theirs = null;
      drawNotice(question);
      return;
    }
    theirs = { version: question.version, value: now };
    merging = false;
    drawNotice(question);
  }

  /** The server refused the save: the question changed since (its current state came with the refusal). */
  function refused(text) {
    status.textContent = text;
  }

  return { box, textarea, update, refused, kind, get typed() { return value(); }, redrawNotice: () => drawNotice(latest) };
}
