// Editing a question in its card: the text itself, or the written answer. Ctrl+Enter saves, Escape leaves.
import { el } from "../../lib/dom.js";
import { t } from "../../lib/i18n.js";
import { LIMITS } from "../../lib/limits.js";
import { actionButton } from "./feedback.js";

function keys(textarea, { stop, save }) {
  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Escape") stop();
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) save();
  });
}

/** `save(text)` sends the new text, `stop()` closes the editor unchanged. */
export function textEditor(li, question, { stop, save }) {
  const id = `edit-${question.id}`;
  const textarea = el("textarea", { id, rows: 3, maxlength: LIMITS.question_text, "data-action": "edit-text" });
  textarea.value = question.text;
  const saveText = () => save(textarea.value);
  keys(textarea, { stop, save: saveText });
  li.append(
    el("label", { for: id }, t("Text der Frage bearbeiten")),
    textarea,
    el("div", { class: "actions" },
      actionButton(t("Speichern"), "save", saveText, "button-primary"),
      actionButton(t("Abbrechen"), "cancel", stop, "button-quiet")),
  );
  requestAnimationFrame(() => textarea.focus());
}

/** `save(answer)` sends the trimmed answer ("" removes it), `stop()` closes the editor unchanged. */
export function answerEditor(li, question, { stop, save }) {
  const id = `answer-${question.id}`;
  const textarea = el("textarea", { id, rows: 4, maxlength: LIMITS.answer, "data-action": "answer-text" });
  textarea.value = question.answer || "";
  const saveAnswer = () => save(textarea.value.trim());
  keys(textarea, { stop, save: saveAnswer });
  li.append(
    el("p", { class: "question-text" }, question.text),
    el("label", { for: id }, t("Schriftliche Antwort (für alle sichtbar, wo die Frage sichtbar ist)")),
    textarea,
    el("div", { class: "actions" },
      actionButton(t("Antwort speichern"), "save-answer", saveAnswer, "button-primary"),
      actionButton(t("Abbrechen"), "cancel", stop, "button-quiet")),
  );
  requestAnimationFrame(() => textarea.focus());
}
