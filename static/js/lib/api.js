// The one HTTP client: fetch with JSON in and out, the CSRF header, errors that carry the server's code so pages
// can explain them in the page's language, and every address of the event API, built in one place.
import { t } from "./i18n.js";

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

export async function api(method, path, body, headers = {}) {
  const options = { method, headers: { Accept: "application/json", ...headers }, credentials: "same-origin" };
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

/** The addresses of one event's API (docs/api.md), for `api(method, address, body)`. */
export function eventEndpoints(slug) {
  const base = `/api/events/${encodeURIComponent(slug)}`;
  const question = (id) => `${base}/questions/${id}`;
  const poll = (id) => `${base}/polls/${id}`;
  return Object.freeze({
    questions: () => `${base}/questions`,
    questionsReopen: () => `${base}/questions/reopen`,
    question,
    questionVotes: (id) => `${question(id)}/votes`,
    questionReports: (id) => `${question(id)}/reports`,
    questionDeviceBlock: (id) => `${question(id)}/device-block`,
    questionDevice: (id) => `${question(id)}/device`,
    myReports: () => `${base}/reports/mine`,
    undo: () => `${base}/moderation/undo`,
    bulk: () => `${base}/moderation/bulk`,
    moderationActions: () => `${base}/moderation/actions`,
    undoAction: (id) => `${base}/moderation/actions/${id}/undo`,
    moderationNotes: () => `${base}/moderation/notes`,
    words: () => `${base}/words`,
    word: (word) => `${base}/words/${encodeURIComponent(word)}`,
    polls: () => `${base}/polls`,
    poll,
    pollVotes: (id) => `${poll(id)}/votes`,
    reactions: () => `${base}/reactions`,
    screen: () => `${base}/screen`,
    agendaCurrent: () => `${base}/agenda/current`,
    studioLinks: () => `${base}/studio-links`,
    studioLink: (id) => `${base}/studio-links/${id}`,
    status: () => `${base}/status`,
  });
}
