// Times on the page: events happen in Germany and are announced in German time, so a viewer abroad sees the time
// on the poster.
import { LANGUAGE, LOCALE } from "./i18n.js";

const EVENT_TIME_ZONE = "Europe/Berlin";
const timeFormat = new Intl.DateTimeFormat(LOCALE, {
  hour: "2-digit", minute: "2-digit", timeZone: EVENT_TIME_ZONE,
});
const dateTimeFormat = new Intl.DateTimeFormat(LOCALE, {
  weekday: "long", day: "numeric", month: "long", year: "numeric", hour: "2-digit", minute: "2-digit",
  timeZone: EVENT_TIME_ZONE,
});

export function formatTime(iso) {
  return iso ? timeFormat.format(new Date(iso)) : "";
}

export function localiseTimes(root = document) {
  for (const element of root.querySelectorAll("[data-local-time]")) {
    element.textContent = formatTime(element.getAttribute("datetime"));
  }
  for (const element of root.querySelectorAll("[data-local-range]")) {
    const start = new Date(element.getAttribute("datetime"));
    const end = element.dataset.end ? new Date(element.dataset.end) : null;
    element.textContent = dateTimeFormat.format(start) + (end ? ` – ${timeFormat.format(end)}${LANGUAGE === "de" ? " Uhr" : ""}` : "");
  }
}
