// Asking a question (viewer page): the form, its character counter and what the viewer is told after sending.
import { $ } from "../lib/dom.js";
import { t } from "../lib/i18n.js";
import { LIMITS } from "../lib/limits.js";
import { ERROR_TEXTS } from "./viewer-errors.js";

/** `onAsked()` redraws the lists once the new question is in the store (as the viewer's own). */
export function setUpAskForm({ store, actions, onAsked }) {
  const form = $("[data-ask-form]");
  if (!form) return; // the event takes no questions now
  const textarea = form.querySelector("textarea");
  const counter = $("[data-counter]");
  const feedback = $("[data-ask-feedback]");
  const submit = $("[data-ask-submit]");
  const updateCounter = () => {
    counter.textContent = t("{count} von {max} Zeichen", { count: textarea.value.length, max: LIMITS.question_text });
  };
  textarea.addEventListener("input", updateCounter);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = textarea.value.trim();
    feedback.className = "form-feedback";
    if (!text) {
      feedback.textContent = t("Bitte schreiben Sie zuerst Ihre Frage.");
      feedback.classList.add("is-error");
      textarea.focus();
      return;
    }
    submit.disabled = true;
    try {
      const name = form.elements.name ? form.elements.name.value.trim() : "";
      const to = form.elements.panelist_id ? form.elements.panelist_id.value : "";
      const question = await actions.act("ask",
        { text, name: name || null, panelist_id: to ? Number(to) : null });
      store.upsert(question, { mine: true });
      textarea.value = "";
      updateCounter();
      feedback.textContent = question.status === "approved"
        ? t("Danke! Ihre Frage ist angekommen und für alle sichtbar.")
        : t("Danke! Ihre Frage ist angekommen. Sie erscheint für alle, sobald die Moderation sie freigibt.");
      feedback.classList.add("is-ok");
      onAsked();
    } catch (error) {
      feedback.textContent = ERROR_TEXTS[error.code]
        || (error.status === 422 ? t("Bitte prüfen Sie Ihre Eingabe: {problem}", { problem: error.message })
          : t("Die Frage konnte nicht gesendet werden. Bitte versuchen Sie es noch einmal."));
      feedback.classList.add("is-error");
    } finally {
      submit.disabled = false;
    }
  });
}
