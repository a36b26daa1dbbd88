// The presenter screen's keys: F for full screen (everyone), and with a moderator login N puts the next question on
// air and A marks the one on air as answered.
import { api } from "../lib/api.js";
import { $ } from "../lib/dom.js";
import { t } from "../lib/i18n.js";

/** `isReady()`: the first snapshot has arrived; `nextQuestions()` in the order the screen shows them. */
export function setUpHostShortcuts({ isHost, questions, urls, isReady, nextQuestions, draw }) {
  const feedback = $("[data-feedback]");
  const fullscreenButton = $("[data-fullscreen]");

  // Host actions run one after the other: a key pressed while the last action is still on its way waits for it
  // (and then acts on the state it left) instead of being dropped.
  let actions = Promise.resolve();

  function inTurn(action) {
    actions = actions.then(action, action);
  }

  let sayTimer = null;

  function say(text, kind = "ok") {
    feedback.textContent = text;
    feedback.dataset.kind = kind;
    clearTimeout(sayTimer);
    sayTimer = setTimeout(() => {
      feedback.textContent = "";
    }, 8000);
  }

  async function patchQuestion(question, body, done) {
    try {
      const updated = await api("PATCH", urls.question(question.id), { ...body, version: question.version });
      questions.upsert(updated);
      say(done);
    } catch (error) {
      say(error.code === "version_conflict"
        ? t("Die Frage wurde gerade geändert. Bitte noch einmal versuchen.")
        : error.code === "unauthorized" || error.code === "forbidden"
          ? t("Keine Berechtigung – bitte neu anmelden.")
          : t("Das hat nicht geklappt. Bitte noch einmal versuchen."), "error");
    } finally {
      draw();
    }
  }

  function putNextOnAir() {
    if (!isReady()) {
      say(t("Noch keine Verbindung – bitte gleich noch einmal."), "error");
      return;
    }
    inTurn(async () => {
      const [next] = nextQuestions();
      if (!next) {
        say(t("Keine freigegebene Frage mehr."), "error");
        return;
      }
      await patchQuestion(next, { highlighted: true }, t("Nächste Frage ist auf Sendung."));
    });
  }

  function markAnswered() {
    if (!isReady()) {
      say(t("Noch keine Verbindung – bitte gleich noch einmal."), "error");
      return;
    }
    inTurn(async () => {
      const question = questions.onAir;
      if (!question) {
        say(t("Gerade ist keine Frage auf Sendung."), "error");
        return;
      }
      await patchQuestion(question, { status: "answered" }, t("Frage als beantwortet markiert."));
    });
  }

  function toggleFullscreen() {
    if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
    else if (document.documentElement.requestFullscreen) document.documentElement.requestFullscreen().catch(() => {});
  }

  function onFullscreenChange() {
    const on = Boolean(document.fullscreenElement);
    fullscreenButton.setAttribute("aria-pressed", String(on));
    fullscreenButton.textContent = on ? t("Vollbild beenden") : t("Vollbild");
  }

  function onKey(event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
    const target = event.target;
    if (target instanceof HTMLElement && target.closest("input, textarea, select, [contenteditable]")) return;
    const key = event.key.toLowerCase();
    if (key === "f") {
      event.preventDefault();
      toggleFullscreen();
    } else if (isHost && key === "n") {
      event.preventDefault();
      putNextOnAir();
    } else if (isHost && key === "a") {
      event.preventDefault();
      markAnswered();
    }
  }

  fullscreenButton.addEventListener("click", toggleFullscreen);
  document.addEventListener("fullscreenchange", onFullscreenChange);
  document.addEventListener("keydown", onKey);
}
