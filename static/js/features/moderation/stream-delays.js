// The moderator's stream delays: the form that stores them (PUT …/stream-delays) and the sound-check calculator,
// which turns two clock readings from one photo (the server's clock, and the overlay clock in a viewer's picture)
// into seconds.
import { api, ApiError } from "../../lib/api.js";
import { pageConfig } from "../../lib/config.js";
import { t } from "../../lib/i18n.js";
import { clockText, serverClock } from "../../lib/server-time.js";

const DAY_S = 24 * 3600;

/** Seconds of the day from "17:30:05", "17:30:05,3" or "17.30.05"; null when it is no time. */
export function secondsOfDay(text) {
  const match = /^\s*(\d{1,2})[:.](\d{2})[:.](\d{2})(?:[,.](\d))?\s*$/.exec(text || "");
  if (!match) return null;
  const [hours, minutes, seconds] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (hours > 23 || minutes > 59 || seconds > 59) return null;
  return hours * 3600 + minutes * 60 + seconds + (match[4] ? Number(match[4]) / 10 : 0);
}

/** How far the viewer's picture is behind the studio, in whole seconds (across midnight too). */
export function delayBetween(studio, viewer) {
  return Math.round((((studio - viewer) % DAY_S) + DAY_S) % DAY_S);
}

function setUp(root) {
  const { slug } = pageConfig();
  const form = root.querySelector("[data-delay-form]");
  const feedback = root.querySelector("[data-delay-feedback]");
  const max = Number(form.querySelector("input").max);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = {};
    for (const input of form.querySelectorAll("input")) {
      const value = Number(input.value);
      if (!Number.isInteger(value) || value < 0 || value > max || input.value.trim() === "") {
        feedback.textContent = t("Bitte ganze Sekunden von 0 bis {max} angeben.", { max });
        input.focus();
        return;
      }
      body[input.name] = value;
    }
    try {
      const saved = await api("PUT", `/api/events/${encodeURIComponent(slug)}/stream-delays`, body);
      for (const [kind, seconds] of Object.entries(saved)) form.elements[kind].value = String(seconds);
      feedback.textContent = t("Gespeichert. Die Zuschauerseiten richten sich ab jetzt danach.");
    } catch (error) {
      feedback.textContent = error instanceof ApiError && error.status === 422
        ? t("Bitte ganze Sekunden von 0 bis {max} angeben.", { max })
        : t("Das hat nicht geklappt. Bitte versuchen Sie es noch einmal.");
    }
  });

  const clockElement = root.querySelector("[data-delay-clock]");
  const studioInput = root.querySelector("[data-delay-studio]");
  const viewerInput = root.querySelector("[data-delay-viewer]");
  const result = root.querySelector("[data-delay-result]");
  const apply = root.querySelector("[data-delay-apply]");
  const details = root.querySelector(".delay-calculator");
  let clock = null;
  let measured = null;

  details.addEventListener("toggle", () => {
    if (!details.open || clock) return;
    // Only while the calculator is open: no requests for a clock nobody reads.
    clock = serverClock();
    setInterval(() => {
      if (details.open) clockElement.textContent = clockText(clock.now());
    }, 100);
  });

  function calculate() {
    const studio = secondsOfDay(studioInput.value);
    const viewer = secondsOfDay(viewerInput.value);
    measured = studio !== null && viewer !== null ? delayBetween(studio, viewer) : null;
    apply.hidden = measured === null || measured > max;
    if (measured === null) {
      result.textContent = studioInput.value && viewerInput.value ? t("Bitte beide Uhrzeiten als 17:30:05 eingeben.") : "";
    } else if (measured > max) {
      result.textContent = t("{seconds} Sekunden: mehr als die höchstens {max} Sekunden. Bitte die Uhrzeiten prüfen.", {
        seconds: measured, max,
      });
    } else {
      result.textContent = t("Das Zuschauerbild liegt {seconds} Sekunden hinter dem Studio.", { seconds: measured });
    }
  }
  studioInput.addEventListener("input", calculate);
  viewerInput.addEventListener("input", calculate);
  for (const button of apply.querySelectorAll("[data-delay-apply-to]")) {
    button.addEventListener("click", () => {
      if (measured === null) return;
      const input = form.elements[button.dataset.delayApplyTo];
      input.value = String(measured);
      feedback.textContent = t("Eingetragen. Zum Übernehmen bitte „Verzögerung speichern“ drücken.");
      input.focus();
    });
  }
}

const root = document.querySelector("[data-delay-console]");
if (root) setUp(root);
