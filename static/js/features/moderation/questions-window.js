// The moderators' "Fragen nach dem Ende" card: shown once the event has ended; reopens questions for a set time
// (POST …/questions/reopen) or closes them again. The page hears the result as an `event` message.
import { api } from "../../lib/api.js";
import { t } from "../../lib/i18n.js";
import { formatTime } from "../../lib/time.js";
import { takesQuestions } from "../event-life.js";
import { eventPhase } from "../phase.js";

export function questionsWindow(card, { urls, explain }) {
  let event = null;
  const state = card.querySelector("[data-questions-window-state]");
  const feedback = card.querySelector("[data-questions-window-feedback]");

  function update(next = event) {
    event = next;
    if (!event) return;
    card.hidden = eventPhase(event) !== "after";
    const open = takesQuestions(event);
    state.textContent = open
      ? t("Fragen werden noch bis {time} Uhr angenommen.", { time: formatTime(event.questions_until) })
      : t("Die Veranstaltung ist beendet: Es werden keine neuen Fragen angenommen.");
    card.querySelector("[data-reopen-close]").hidden = !open;
  }

  for (const button of card.querySelectorAll("[data-reopen-minutes]")) {
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        const result = await api("POST", urls.questionsReopen(), { minutes: Number(button.dataset.reopenMinutes) });
        update({ ...event, questions_until: result.questions_until });
        feedback.textContent = result.questions_until ? t("Fragen sind wieder offen.") : t("Fragen sind geschlossen.");
      } catch (error) {
        feedback.textContent = "";
        explain(error);
      } finally {
        button.disabled = false;
      }
    });
  }
  return { update };
}
