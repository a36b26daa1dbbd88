// The moderator's form for a new poll: checked here first (with the same limits as the server), saved as a draft.
import { api } from "../../lib/api.js";
import { t } from "../../lib/i18n.js";
import { LIMITS } from "../../lib/limits.js";
import { CHOICE_KINDS } from "../polls.js";
import { ERROR_TEXTS, explain, shorten } from "./feedback.js";
import { POLL_ERROR_TEXTS, POLL_FIELD_TEXTS } from "./polls-admin.js";

/** `onCreated(poll)` puts the new draft in the list. */
export function setUpPollForm({ urls, onCreated }) {
  const form = document.querySelector("[data-poll-form]");
  const feedback = document.querySelector("[data-poll-form-feedback]");
  const fields = form.elements;
  const showKindFields = () => {
    for (const part of form.querySelectorAll("[data-for-kinds]")) {
      part.hidden = !part.dataset.forKinds.split(" ").includes(fields.kind.value);
    }
  };
  fields.kind.addEventListener("change", showKindFields);
  showKindFields();
  const problem = (text, field) => {
    feedback.textContent = text;
    feedback.className = "form-feedback is-error";
    field.setAttribute("aria-invalid", "true");
    field.focus();
  };
  form.addEventListener("input", (event) => event.target.removeAttribute("aria-invalid"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    feedback.className = "form-feedback";
    feedback.textContent = "";
    const kind = fields.kind.value;
    const body = { title: fields.title.value.trim(), kind, results_visibility: fields.results_visibility.value };
    if (!body.title) return problem(t("Bitte geben Sie die Frage der Umfrage ein."), fields.title);
    if (CHOICE_KINDS.includes(kind)) {
      const options = fields.options.value.split("\n").map((line) => line.trim()).filter(Boolean);
      if (options.length < LIMITS.poll_options_min) {
        return problem(t("Bitte geben Sie mindestens {min} Antwortmöglichkeiten ein, eine pro Zeile.",
          { min: LIMITS.poll_options_min }), fields.options);
      }
      if (options.length > LIMITS.poll_options_max) {
        return problem(t("Bitte geben Sie höchstens {max} Antwortmöglichkeiten ein.", { max: LIMITS.poll_options_max }),
          fields.options);
      }
      if (options.some((o) => o.length > LIMITS.poll_option)) {
        return problem(t("Eine Antwortmöglichkeit darf höchstens {max} Zeichen lang sein.", { max: LIMITS.poll_option }),
          fields.options);
      }
      if (new Set(options).size !== options.length) return problem(t("Jede Antwortmöglichkeit darf nur einmal vorkommen."), fields.options);
      body.options = options;
      if (kind === "multiple") {
        const raw = fields.max_choices.value.trim();
        const max = raw === "" ? null : Number(raw);
        if (max !== null && !(Number.isInteger(max) && max >= 2 && max <= options.length)) {
          return problem(t("„Höchstens wählbar“ muss eine Zahl von 2 bis {max} sein, oder leer.", { max: options.length }),
            fields.max_choices);
        }
        body.max_choices = max;
      }
    }
    if (kind === "rating") body.scale_max = Number(fields.scale_max.value);
    if (kind === "words") body.max_words = Number(fields.max_words.value);
    const submit = form.querySelector("[data-poll-create]");
    submit.disabled = true;
    try {
      const poll = await api("POST", urls.polls(), body);
      onCreated(poll);
      fields.title.value = "";
      fields.options.value = "";
      fields.max_choices.value = "";
      feedback.textContent = t("Entwurf gespeichert: „{title}“. Starten Sie ihn in der Liste mit „Starten“.",
        { title: shorten(poll.title) });
      feedback.className = "form-feedback is-ok";
    } catch (error) {
      if (error.status === 401) explain(error);
      const field = error.details?.field;
      feedback.textContent = POLL_ERROR_TEXTS[error.code] || POLL_FIELD_TEXTS[field]
        || (error.code === "network" ? ERROR_TEXTS.network
          : t("Die Umfrage konnte nicht gespeichert werden: {reason}", { reason: error.message || error.code }));
      feedback.className = "form-feedback is-error";
      if (field && fields[field]) fields[field].setAttribute("aria-invalid", "true");
    } finally {
      submit.disabled = false;
    }
    return undefined;
  });
}
