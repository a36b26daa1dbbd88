// What the event's phase opens and closes on the viewer page, as the server's rules say (smartrlp/services/
// phases.py): before the start questions in advance but no reactions or polls; at the end the ask form gives way
// to a notice (unless a moderator reopened questions for a while), reactions stop and the badge says it is over.
import { $ } from "../lib/dom.js";
import { t } from "../lib/i18n.js";
import { eventPhase } from "./phase.js";

/** Questions are taken: open, not archived, and before the end or within the time a moderator reopened them. */
export function takesQuestions(event, now = Date.now()) {
  if (!event || !event.questions_open || event.archived) return false;
  if (eventPhase(event, now) !== "after") return true;
  return Boolean(event.questions_until) && now < Date.parse(event.questions_until);
}

/** Shows and hides the parts of the page that belong to a phase. */
export function showEventLife(event, now = Date.now()) {
  if (!event) return;
  const phase = eventPhase(event, now);
  const open = takesQuestions(event, now);
  const form = $("[data-ask-form]");
  const closedByModeration = !event.questions_open || event.archived;
  if (form) {
    const textarea = form.querySelector("textarea");
    // Whatever someone is typing stays on the page: the notice comes, the form only goes once it is empty.
    form.hidden = !open && !(textarea && textarea.value.trim());
    const reopened = $("[data-questions-reopened]");
    if (reopened) reopened.hidden = !(open && phase === "after");
  }
  for (const notice of document.querySelectorAll("[data-questions-closed]")) {
    const ended = notice.dataset.closedReason === "ended";
    notice.hidden = ended ? open || closedByModeration || phase !== "after" : !closedByModeration;
  }
  const reactions = $("[data-reactions]");
  if (reactions) reactions.hidden = phase !== "live";
}

/** The connection badge: once the event has ended it says so, not "Live verbunden". */
export function connectionStatusFor(status, event, now = Date.now()) {
  if (status.state === "live" && eventPhase(event, now) === "after") {
    return { state: "ended", text: t("Die Veranstaltung ist beendet") };
  }
  return status;
}

export function showEndedConnection(element, status) {
  if (!element || status.state !== "ended") return false;
  element.dataset.state = "ended";
  element.querySelector("[data-connection-text]").textContent = status.text;
  return true;
}

/** The next moment (ms) at which the phase or the reopened questions change, or Infinity. */
export function nextBoundary(event, now = Date.now()) {
  if (!event) return Infinity;
  const moments = [event.starts_at, event.ends_at, event.questions_until]
    .filter(Boolean).map((iso) => Date.parse(iso)).filter((ms) => ms > now);
  return moments.length ? Math.min(...moments) : Infinity;
}
