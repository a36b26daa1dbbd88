// Reporting a question to the moderation (viewer page): the "Melden" button, its small form, and the questions
// this device reported (from the server, so a reload remembers).
import { api } from "../lib/api.js";
import { announce, el } from "../lib/dom.js";
import { t } from "../lib/i18n.js";
import { ERROR_TEXTS } from "./viewer-errors.js";

const REPORT_REASONS = Object.freeze({
  offensive: t("beleidigend"),
  spam: t("Spam"),
  misleading: t("falsche Angaben"),
  other: t("anderes"),
});

/** `list` holds the questions' `li[data-id]`; `render()` redraws it (once per frame). */
export function questionReports({ urls, actions, list, render }) {
  const reported = new Set(); // questions this device reported
  const reporting = new Set(); // questions whose report form is open
  const reportBusy = new Set();

  function focusInQuestion(questionId, selector) {
    // After the redraw that perFrame has queued for this frame.
    requestAnimationFrame(() => {
      const target = list.querySelector(`li[data-id="${questionId}"] ${selector}`);
      if (target) target.focus();
    });
  }

  function reportControl(question) {
    if (question.mine) return null;
    if (reported.has(question.id)) {
      return el("p", { class: "report-done" }, el("span", { "aria-hidden": "true" }, "⚑ "), t("Gemeldet"));
    }
    if (!reporting.has(question.id)) {
      return el("button", {
        type: "button", class: "report-button", "data-action": "report", "aria-expanded": "false",
        onclick: () => {
          reporting.add(question.id);
          render();
          focusInQuestion(question.id, "[data-report-form] input");
        },
      }, el("span", { "aria-hidden": "true" }, "⚑ "), t("Melden"),
      el("span", { class: "visually-hidden" }, t(": Frage der Moderation melden")));
    }
    const formId = `report-${question.id}`;
    const cancel = () => {
      reporting.delete(question.id);
      render();
      focusInQuestion(question.id, "[data-action=report]");
    };
    const form = el("form", {
      class: "report-form", "data-report-form": true, "aria-labelledby": `${formId}-title`,
      onkeydown: (event) => event.key === "Escape" && cancel(),
      onsubmit: (event) => {
        event.preventDefault();
        const chosen = form.querySelector("input:checked");
        report(question, chosen ? chosen.value : null);
      },
    },
    el("p", { class: "report-title", id: `${formId}-title` }, t("Diese Frage der Moderation melden?")),
    el("fieldset", {},
      el("legend", {}, t("Grund (freiwillig)")),
      Object.entries(REPORT_REASONS).map(([value, label]) => el("label", { class: "check" },
        el("input", { type: "radio", name: `${formId}-reason`, value }), el("span", {}, label)))),
    el("p", { class: "hint" }, t("Die Moderation prüft die Frage. Wer gemeldet hat, sieht niemand.")),
    el("div", { class: "actions" },
      el("button", { type: "submit", class: "button button-primary", "data-action": "report-send",
        disabled: reportBusy.has(question.id) }, t("Melden")),
      el("button", { type: "button", class: "button button-quiet", "data-action": "report-cancel", onclick: cancel },
        t("Abbrechen"))));
    return form;
  }

  async function report(question, reason) {
    if (reportBusy.has(question.id)) return;
    reportBusy.add(question.id);
    try {
      await actions.act("report", reason ? { question_id: question.id, reason } : { question_id: question.id });
      reported.add(question.id);
      reporting.delete(question.id);
      announce(t("Danke. Die Moderation sieht Ihre Meldung."));
    } catch (error) {
      announce(error.code === "question_not_found" ? t("Diese Frage ist nicht mehr sichtbar.")
        : ERROR_TEXTS[error.code] || t("Die Meldung konnte nicht gesendet werden. Bitte versuchen Sie es noch einmal."));
    } finally {
      reportBusy.delete(question.id);
      render();
    }
  }

  async function load() {
    try {
      const mine = await api("GET", urls.myReports());
      for (const id of mine.question_ids) reported.add(id);
      render();
    } catch {
      // Without the list the page still works; a second report of the same question is simply not counted.
    }
  }

  return {
    control: reportControl,
    load,
    /** What of a question's report state its drawing depends on. */
    state: (questionId) => [reported.has(questionId), reporting.has(questionId), reportBusy.has(questionId)],
  };
}
