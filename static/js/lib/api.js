// fetch with JSON in and out; errors carry the server's code so pages can explain them in German.
import { LANGUAGE, LOCALE, t } from "./i18n.js";

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

// A logged-in page carries its session's CSRF token; every change it sends proves with it that it came from here.
const csrfMeta = document.querySelector('meta[name="csrf-token"]');
const CSRF_TOKEN = csrfMeta ? csrfMeta.content : "";
const SAFE_METHODS = ["GET", "HEAD", "OPTIONS"];

export async function api(method, path, body) {
  const options = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
  if (CSRF_TOKEN && !SAFE_METHODS.includes(method)) options.headers["X-CSRF-Token"] = CSRF_TOKEN;
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, options);
  } catch {
    throw new ApiError(0, "network", t("Keine Verbindung zum Server."));
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = (data && data.error) || {};
    const apiError = new ApiError(response.status, error.code || "http_" + response.status, error.message || "",
      error.details);
    // 429: how long to wait, for pages that say so.
    apiError.retryAfter = Number(response.headers.get("Retry-After")) || null;
    throw apiError;
  }
  return data;
}

export function pageConfig() {
  return JSON.parse(document.getElementById("page-config").textContent);
}

export function announce(text) {
  const region = document.querySelector("[data-announcer]");
  if (!region) return;
  // Clearing first makes screen readers announce the same sentence twice in a row, too.
  region.textContent = "";
  setTimeout(() => {
    region.textContent = text;
  }, 50);
}

// Events happen in Germany and are announced in German time: a viewer abroad sees the time on the poster.
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
