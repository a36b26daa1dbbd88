// The moderator's polls: a card per poll with its state, the visibility of its results, start/close/reopen,
// reset and delete (each asked to confirm), moving it up and down, and the live results.
import { api } from "../../lib/api.js";
import { el, perFrame, renderKeyed } from "../../lib/dom.js";
import { t } from "../../lib/i18n.js";
import { LIMITS } from "../../lib/limits.js";
import { MessageType } from "../../lib/protocol.js";
import { formatTime } from "../../lib/time.js";
import { renderResults } from "../poll-results.js";
import { CHOICE_KINDS, KIND_LABELS, PollStore, STATE_LABELS, VISIBILITY_LABELS } from "../polls.js";
import { actionButton, explain, say, shorten, toastText } from "./feedback.js";

export const POLL_ERROR_TEXTS = {
  poll_not_found: t("Diese Umfrage gibt es nicht mehr."),
  poll_open: t("Eine laufende Umfrage kann nicht gelöscht werden. Bitte beenden Sie sie zuerst."),
  poll_not_editable: t("Eine gestartete Umfrage kann nicht mehr geändert werden. Setzen Sie sie dafür zuerst zurück."),
  invalid_transition: t("Das geht im jetzigen Zustand der Umfrage nicht."),
};

export const POLL_FIELD_TEXTS = {
  title: t("Bitte geben Sie eine Frage mit höchstens {max} Zeichen ein.", { max: LIMITS.poll_title }),
  options: t("Bitte prüfen Sie die Antwortmöglichkeiten: {min} bis {max}, keine doppelt, je höchstens {length} Zeichen.",
    { min: LIMITS.poll_options_min, max: LIMITS.poll_options_max, length: LIMITS.poll_option }),
  max_choices: t("„Höchstens wählbar“ muss zwischen 2 und der Zahl der Antwortmöglichkeiten liegen."),
  scale_max: t("Die Skala kann 1 bis 5 oder 1 bis 10 sein."),
  results_visibility: t("Bitte wählen Sie, wann das Publikum die Ergebnisse sieht."),
};

function pollSummary(poll) {
  const parts = [KIND_LABELS[poll.kind]];
  if (CHOICE_KINDS.includes(poll.kind)) parts.push(t("{count} Antwortmöglichkeiten", { count: poll.options.length }));
  if (poll.kind === "multiple") {
    parts.push(poll.max_choices ? t("höchstens {max} wählbar", { max: poll.max_choices }) : t("beliebig viele wählbar"));
  }
  if (poll.kind === "rating") parts.push(t("Skala 1 bis {max}", { max: poll.scale_max }));
  if (poll.kind === "words" && poll.max_words > 1) {
    parts.push(t("bis zu {count} Wörter je Gerät", { count: poll.max_words }));
  }
  if (poll.state === "open" && poll.opened_at) parts.push(t("läuft seit {time} Uhr", { time: formatTime(poll.opened_at) }));
  if (poll.state === "closed" && poll.closed_at) parts.push(t("beendet um {time} Uhr", { time: formatTime(poll.closed_at) }));
  return parts.join(" · ");
}

/** `onList(polls)` hears of every redraw (the studio control offers the launched polls). */
export function pollsAdmin({ urls, onList }) {
  const pollStore = new PollStore({ staff: true });
  const pollList = document.querySelector("[data-poll-admin-list]");
  const pollConfirm = new Map(); // poll id -> "reset" | "delete" while the moderator is asked to confirm
  const pollBusy = new Set();
  const pollNotice = new Map(); // poll id -> {text, kind}: the outcome of the last action, shown on the card

  function explainPoll(poll, error) {
    let text = POLL_ERROR_TEXTS[error.code];
    if (!text && error.status === 422) text = POLL_FIELD_TEXTS[error.details?.field];
    if (text) say(text, "error");
    else explain(error);
    // The toast is at the top of the page; the card may be far below, so it says it there as well (not aloud).
    pollNotice.set(poll.id, { text: toastText(), kind: "error" });
  }

  async function changePoll(poll, method, body, doneText) {
    if (pollBusy.has(poll.id)) return; // a double click sends once
    pollBusy.add(poll.id);
    try {
      const updated = await api(method, urls.poll(poll.id), body);
      if (method === "DELETE") pollStore.polls.delete(poll.id);
      else {
        if (body.position !== undefined) pollStore.move(poll.id, updated.position);
        pollStore.upsert(updated);
      }
      say(t("{action}: „{text}“", { action: doneText, text: shorten(poll.title) }));
      if (method === "DELETE") pollNotice.delete(poll.id);
      else pollNotice.set(poll.id, { text: `${doneText}.`, kind: "ok" });
    } catch (error) {
      explainPoll(poll, error);
    } finally {
      pollBusy.delete(poll.id);
      renderPolls();
    }
  }

  function focusLater(li, action) {
    // After the redraw that perFrame has queued for this frame.
    requestAnimationFrame(() => {
      const target = pollList.querySelector(`li[data-id="${li.dataset.id}"] [data-action="${action}"]`);
      if (target) target.focus();
    });
  }

  function pollActions(li, poll, index, count) {
    const asking = pollConfirm.get(poll.id);
    if (asking) {
      const question = asking === "delete"
        ? t("Diese Umfrage mit allen Antworten endgültig löschen?")
        : t("Alle Antworten löschen und die Umfrage wieder zum Entwurf machen?");
      const cancel = () => {
        pollConfirm.delete(poll.id);
        renderPolls();
        focusLater(li, asking);
      };
      const confirm = () => {
        pollConfirm.delete(poll.id);
        if (asking === "delete") changePoll(poll, "DELETE", undefined, t("Gelöscht"));
        else changePoll(poll, "PATCH", { state: "draft" }, t("Zurückgesetzt"));
      };
      return el("div", {
        class: "poll-confirm", role: "group", "aria-label": t("Bestätigung"),
        onkeydown: (event) => event.key === "Escape" && cancel(),
      },
        el("p", {}, question),
        el("div", { class: "actions" },
          actionButton(asking === "delete" ? t("Ja, löschen") : t("Ja, zurücksetzen"), "confirm", confirm, "button-danger"),
          actionButton(t("Abbrechen"), "cancel", cancel, "button-quiet")));
    }
    const ask = (what) => () => {
      pollConfirm.set(poll.id, what);
      renderPolls();
      focusLater(li, "confirm");
    };
    const buttons = [];
    if (poll.state === "draft") {
      buttons.push(actionButton(t("Starten"), "start", () => changePoll(poll, "PATCH", { state: "open" }, t("Gestartet")), "button-primary"));
    } else if (poll.state === "open") {
      buttons.push(actionButton(t("Beenden"), "close", () => changePoll(poll, "PATCH", { state: "closed" }, t("Beendet")), "button-air"));
    } else {
      buttons.push(actionButton(t("Wieder öffnen"), "reopen", () => changePoll(poll, "PATCH", { state: "open" }, t("Wieder geöffnet"))));
      buttons.push(actionButton(t("Zurücksetzen"), "reset", ask("reset"), "button-danger"));
    }
    if (poll.state !== "open") buttons.push(actionButton(t("Löschen"), "delete", ask("delete"), "button-danger"));
    // At the top (or bottom) its own button is disabled; keyboard focus goes to the other one, not lost.
    const up = el("button", {
      type: "button", class: "button button-quiet", "data-action": "up", disabled: index === 0,
      onclick: async () => {
        await changePoll(poll, "PATCH", { position: index }, t("Nach oben verschoben"));
        if (index === 1) focusLater(li, "down");
      },
    }, el("span", { "aria-hidden": "true" }, "↑"), t("Nach oben"));
    const down = el("button", {
      type: "button", class: "button button-quiet", "data-action": "down", disabled: index === count - 1,
      onclick: async () => {
        await changePoll(poll, "PATCH", { position: index + 2 }, t("Nach unten verschoben"));
        if (index === count - 2) focusLater(li, "up");
      },
    }, el("span", { "aria-hidden": "true" }, "↓"), t("Nach unten"));
    return el("div", { class: "actions" }, buttons, up, down);
  }

  function renderPollAdmin(li, poll) {
    const polls = pollStore.list();
    const index = polls.findIndex((p) => p.id === poll.id);
    li.className = `poll-admin-card state-${poll.state}`;
    const selectId = `admin-poll-${poll.id}-visibility`;
    const visibility = el("select", { id: selectId, "data-action": "visibility" },
      Object.entries(VISIBILITY_LABELS).map(([value, label]) =>
        el("option", { value, selected: value === poll.results_visibility }, label)));
    visibility.addEventListener("change", () => changePoll(poll, "PATCH", { results_visibility: visibility.value },
      t("Ergebnisse für das Publikum: {visibility}", { visibility: VISIBILITY_LABELS[visibility.value] })));
    li.append(...[
      el("div", { class: "poll-head" },
        el("h3", { class: "poll-title" }, el("span", { class: "poll-position" }, `${index + 1}. `), poll.title),
        el("span", { class: `badge badge-poll-${poll.state}` },
          poll.state === "open" ? el("span", { "aria-hidden": "true" }, "● ") : null, STATE_LABELS[poll.state])),
      el("p", { class: "poll-meta" }, pollSummary(poll)),
      poll.state === "draft" && CHOICE_KINDS.includes(poll.kind)
        ? el("ul", { class: "poll-option-preview", "aria-label": t("Antwortmöglichkeiten") }, poll.options.map((o) => el("li", {}, o.label)))
        : null,
      el("div", { class: "poll-visibility" }, el("label", { for: selectId }, t("Ergebnisse für das Publikum:")), visibility),
      pollActions(li, poll, index, polls.length),
      pollNotice.has(poll.id)
        ? el("p", { class: `poll-notice is-${pollNotice.get(poll.id).kind}` }, pollNotice.get(poll.id).text) : null,
      el("div", { class: "poll-results-slot", "data-results": true }),
    ].filter(Boolean));
  }

  const renderPolls = perFrame(() => {
    const polls = pollStore.list();
    onList(polls);
    document.querySelector("[data-poll-count]").textContent = String(polls.length);
    document.querySelector("[data-poll-empty]").hidden = polls.length > 0;
    renderKeyed(pollList, polls, renderPollAdmin, (poll) =>
      JSON.stringify([{ ...poll, results: null }, polls.indexOf(poll), polls.length, pollConfirm.get(poll.id) || null,
        pollNotice.get(poll.id) || null]));
    for (const poll of polls) {
      const slot = pollList.querySelector(`li[data-id="${poll.id}"] [data-results]`);
      const signature = JSON.stringify([poll.state, poll.results]);
      if (!slot || slot.dataset.sig === signature) continue;
      slot.dataset.sig = signature;
      const view = poll.state === "draft" ? null
        : renderResults(poll, { heading: poll.state === "closed" ? t("Endergebnis") : t("Live-Ergebnis") });
      slot.replaceChildren(...(view ? [view] : []));
    }
  });

  function onMessage(message) {
    if (message.type === MessageType.POLL && pollStore.get(message.poll.id)?.state !== message.poll.state) {
      pollNotice.delete(message.poll.id); // someone else changed it: the last outcome no longer describes it
    }
    if (pollStore.apply(message)) renderPolls();
  }

  /** A poll the moderator just created, before its live message comes. */
  function added(poll) {
    pollStore.upsert(poll);
    renderPolls();
  }

  return { onMessage, added };
}
