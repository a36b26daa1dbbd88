// Before, live, after: what the viewer page shows around the event, from its planned start and end.
import { $, el } from "../lib/dom.js";
import { t, tn } from "../lib/i18n.js";

export function eventPhase(event, now = Date.now()) {
  if (!event) return "live";
  if (event.starts_at && now < Date.parse(event.starts_at)) return "before";
  if (event.ends_at && now >= Date.parse(event.ends_at)) return "after";
  return "live";
}

/** "(in 2 Tagen, 3 Stunden)", "(in 12 Minuten)": coarse on purpose, it is read, not watched. */
export function countdownText(event, now = Date.now()) {
  if (!event || !event.starts_at) return "";
  const minutes = Math.ceil((Date.parse(event.starts_at) - now) / 60000);
  if (minutes <= 0) return "";
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const rest = minutes % 60;
  const parts = [];
  if (days) parts.push(tn(days, t("1 Tag"), t("{count} Tagen")));
  if (hours) parts.push(tn(hours, t("1 Stunde"), t("{count} Stunden")));
  if (!days && rest) parts.push(tn(rest, t("1 Minute"), t("{count} Minuten")));
  const text = t("in {time}", { time: parts.join(", ") });
  return `(${text})`;
}

function offsetSeconds(event, iso) {
  if (!event || !event.starts_at || !iso) return null;
  const seconds = Math.round((Date.parse(iso) - Date.parse(event.starts_at)) / 1000);
  return seconds < 0 ? null : seconds;
}

const YOUTUBE_HOSTS = ["youtube.com", "www.youtube.com", "m.youtube.com", "youtu.be", "www.youtube-nocookie.com"];
const FACEBOOK_HOSTS = ["facebook.com", "www.facebook.com", "m.facebook.com", "fb.watch"];

/** The recording at `seconds` in, where the recording is on YouTube or Facebook (both read `t`); else null. */
export function recordingAt(recordingUrl, seconds) {
  if (!recordingUrl || seconds === null) return null;
  let url;
  try {
    url = new URL(recordingUrl);
  } catch {
    return null;
  }
  if (YOUTUBE_HOSTS.includes(url.hostname)) {
    url.searchParams.set("t", `${seconds}s`);
  } else if (FACEBOOK_HOSTS.includes(url.hostname)) {
    url.searchParams.set("t", String(seconds));
  } else {
    return null;
  }
  return url.toString();
}

/** "0:42:13": when in the stream a question was answered, counted from the planned start. */
export function streamOffset(event, iso) {
  const seconds = offsetSeconds(event, iso);
  if (seconds === null) return null;
  const pad = (n) => String(n).padStart(2, "0");
  return `${Math.floor(seconds / 3600)}:${pad(Math.floor((seconds % 3600) / 60))}:${pad(seconds % 60)}`;
}

/** The answered questions as chapter marks, in the order they were answered. */
export function renderChapters(list, event, questions) {
  const answered = questions.filter((q) => q.status === "answered" && q.answered_at)
    .sort((a, b) => Date.parse(a.answered_at) - Date.parse(b.answered_at));
  const items = answered.map((q) => {
    const offset = streamOffset(event, q.answered_at);
    const link = recordingAt(event && event.recording_url, offsetSeconds(event, q.answered_at));
    const time = offset ? el("span", { class: "chapter-time" }, offset) : null;
    const text = el("span", { class: "chapter-text", dir: "auto" }, q.text);
    if (!link) return el("li", {}, time, text);
    return el("li", {}, el("a", { href: link, target: "_blank", rel: "noopener noreferrer" }, time, " ", text,
      el("span", { class: "visually-hidden" }, " (" + t("öffnet neues Fenster") + ")")));
  });
  const signature = JSON.stringify([event && event.recording_url,
    answered.map((q) => [q.id, q.text, q.answered_at, event && event.starts_at])]);
  if (list.dataset.signature !== signature) {
    list.dataset.signature = signature;
    list.replaceChildren(...items);
  }
  return answered.length;
}

/** The viewer page around the event: the blocks of the phase, the countdown, the recording and the chapters. */
export function showPhase(event, questions) {
  const phase = eventPhase(event);
  for (const block of document.querySelectorAll("[data-phase]")) block.hidden = block.dataset.phase !== phase;
  const countdown = $("[data-countdown]");
  if (countdown) countdown.textContent = countdownText(event);
  const recording = event && event.recording_url;
  $("[data-recording-wrap]").hidden = !recording;
  if (recording) $("[data-recording]").href = recording;
  if (phase === "after") {
    const count = renderChapters($("[data-chapters]"), event, questions);
    $("[data-chapters-wrap]").hidden = count === 0;
  }
}
