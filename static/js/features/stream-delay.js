// The viewer page waits for the viewer's video: what the video shows (the question on air, the studio screen, a
// poll opening, closing and its results, the current agenda item) appears when the video reaches it, at the
// change's `at` (the server's time) plus how far this viewer's video runs behind the studio.
//
// The delay: from the YouTube player while it plays here and reports a sane reference time (smoothed), otherwise
// the event's setting for the way this viewer watches ("Ich schaue: …", remembered on the device, or `?watch=`
// from a link). Everything else (questions, votes, the viewer's own answers) is shown at once. Moderators, the
// presenter screen and the overlay never load this module.
import { $ } from "../lib/dom.js";
import { t } from "../lib/i18n.js";
import { MessageType } from "../lib/protocol.js";

export const WATCH_CHOICES = Object.freeze(["here", "tv", "youtube", "facebook", "none"]);
const STORAGE_KEY = "smartrlp.watch";
// What the video shows; shown at `at` + the delay.
const SHOWN_IN_THE_VIDEO = new Set([
  MessageType.ON_AIR,
  MessageType.SCREEN,
  MessageType.POLL,
  MessageType.POLL_DELETED,
  MessageType.POLL_RESULTS,
  MessageType.EVENT,
]);
// The embed's origin: the player in it tells its state by postMessage (enablejsapi=1), so no script of YouTube's
// ever runs in this page (the tests put a stand-in player of their own at this address).
export const YOUTUBE_ORIGIN = "https://www.youtube-nocookie.com";
const SAMPLE_EVERY_MS = 1000;
// A reference time older than this, or in the future, is no delay we believe (a recording, a wrong clock).
const SANE_DELAY_MAX_S = 180;
const SMOOTHING = 0.3; // weight of a new sample: jitter of a second does not make changes jump
const SAMPLE_STALE_MS = 5000; // no sane sample for this long: back to the event's setting

// ---------------------------------------------------------------- the server's clock

/** The server's clock, as told by `pong` messages (their `now`); the best estimate is from the quickest answer. */
export class ServerClock {
  constructor() {
    this.offset = 0; // server time minus this device's time, in ms
    this.roundTrip = Infinity;
  }

  onPong({ now, sentAt, receivedAt }) {
    if (typeof now !== "number") return;
    const roundTrip = receivedAt - sentAt;
    // A quicker answer says more; an old best estimate slowly loses its weight, as clocks drift.
    this.roundTrip = Math.min(this.roundTrip * 1.05 + 10, Infinity);
    if (roundTrip > this.roundTrip) return;
    this.roundTrip = roundTrip;
    this.offset = now - (sentAt + receivedAt) / 2;
  }

  now() {
    return Date.now() + this.offset;
  }
}

// ---------------------------------------------------------------- how this viewer watches

function readChoice() {
  const fromLink = new URLSearchParams(location.search).get("watch");
  if (WATCH_CHOICES.includes(fromLink)) {
    storeChoice(fromLink);
    return fromLink;
  }
  try {
    const stored = localStorage.getItem(STORAGE_KEY);
    return WATCH_CHOICES.includes(stored) ? stored : null;
  } catch {
    return null;
  }
}

function storeChoice(choice) {
  try {
    localStorage.setItem(STORAGE_KEY, choice);
  } catch {
    // Private mode without storage: the choice lasts for this page.
  }
}

// ---------------------------------------------------------------- the YouTube player's own delay

/**
 * Follows the YouTube player in `iframe` through the messages it posts, as YouTube's own IFrame API does: once told
 * we are "listening", it sends `infoDelivery` with its state and, for a live stream, `mediaReferenceTime` (the
 * wall-clock time of the frame on screen, what the API's undocumented `getMediaReferenceTime()` returns).
 * `delay()` is the smoothed delay in seconds, or null while there is no usable figure.
 */
function youtubeDelay(iframe, clock) {
  let smoothed = null;
  let lastSane = 0;
  let heard = false;
  const info = {};
  const id = Math.floor(Math.random() * 1e9);

  function sample() {
    const reference = Number(info.mediaReferenceTime);
    if (info.playerState !== 1 || !Number.isFinite(reference) || reference <= 0) return;
    const delay = clock.now() / 1000 - reference;
    if (delay < 0 || delay > SANE_DELAY_MAX_S) return;
    smoothed = smoothed === null ? delay : smoothed + SMOOTHING * (delay - smoothed);
    lastSane = Date.now();
  }

  function onMessage(event) {
    if (event.origin !== YOUTUBE_ORIGIN || event.source !== iframe.contentWindow) return;
    let data;
    try {
      data = typeof event.data === "string" ? JSON.parse(event.data) : event.data;
    } catch {
      return;
    }
    if (!data || !data.info || (data.event !== "infoDelivery" && data.event !== "initialDelivery")) return;
    heard = true;
    Object.assign(info, data.info);
    sample();
  }

  function listen() {
    if (!iframe.contentWindow) return;
    iframe.contentWindow.postMessage(JSON.stringify({ event: "listening", id, channel: "widget" }), YOUTUBE_ORIGIN);
  }

  window.addEventListener("message", onMessage);
  iframe.addEventListener("load", listen);
  // Until the player answers (it may still be loading), say it again now and then.
  const asking = setInterval(() => {
    if (!iframe.isConnected) return;
    if (heard) clearInterval(asking);
    else listen();
  }, SAMPLE_EVERY_MS);

  return {
    delay() {
      return smoothed !== null && Date.now() - lastSane < SAMPLE_STALE_MS ? smoothed : null;
    },
    stop() {
      clearInterval(asking);
      window.removeEventListener("message", onMessage);
    },
  };
}

// ---------------------------------------------------------------- the choice on the page

function setUpChoice(root, { initial, onChange }) {
  const form = root && root.querySelector("[data-watch-choice]");
  if (!form) return;
  const inputs = [...form.querySelectorAll("input[name='watch']")];
  const available = inputs.map((input) => input.value);
  const shown = available.includes(initial) ? initial : null;
  for (const input of inputs) input.checked = input.value === shown;
  form.dataset.answered = String(shown !== null);
  form.addEventListener("change", (event) => {
    if (event.target.name !== "watch") return;
    storeChoice(event.target.value);
    form.dataset.answered = "true";
    onChange(event.target.value);
  });
}

// ---------------------------------------------------------------- waiting

/**
 * `receive(message)` takes every live message: what the video shows waits until the viewer's video reaches it,
 * the rest goes to `apply` at once. `onPong` keeps the clock; `event()` gives the event as the page knows it.
 */
export function waitForTheVideo({ apply, event, phoneOnly = false }) {
  const clock = new ServerClock();
  const waiting = []; // messages in the order they came; the first is due first (its `at` is the earliest)
  let timer = null;
  let player = null; // the YouTube player being followed, with the iframe it follows
  let choice = readChoice() || (phoneOnly ? null : "here");
  const status = $("[data-watch-status]");

  function provider() {
    // "here": the stream loaded on this page, if any.
    const iframe = document.querySelector("[data-stream-frame] iframe[data-embed-for]");
    return iframe ? iframe.dataset.embedFor : null;
  }

  function followPlayer() {
    const iframe = document.querySelector("[data-stream-frame] iframe[data-embed-for='youtube']");
    if (player && player.iframe === iframe) return;
    if (player) player.follower.stop();
    player = iframe && choice === "here" ? { iframe, follower: youtubeDelay(iframe, clock) } : null;
  }

  /** Seconds this viewer's video runs behind the studio, and where that figure comes from. */
  function delay() {
    const delays = (event() && event().stream_delays) || {};
    const watching = choice === "here" ? provider() : choice;
    if (!watching || watching === "none") return { seconds: 0, source: "none" };
    if (choice === "here" && watching === "youtube" && player) {
      const measured = player.follower.delay();
      if (measured !== null) return { seconds: measured, source: "player" };
    }
    return { seconds: Number(delays[watching]) || 0, source: "setting" };
  }

  function dueAt(message) {
    const at = typeof message.at === "number" ? message.at : clock.now();
    return at - clock.offset + delay().seconds * 1000;
  }

  function drain() {
    clearTimeout(timer);
    timer = null;
    while (waiting.length && dueAt(waiting[0]) <= Date.now()) apply(waiting.shift());
    // The delay may change meanwhile (the player's figure, a new setting): look again at least every second.
    if (waiting.length) timer = setTimeout(drain, Math.min(1000, Math.max(0, dueAt(waiting[0]) - Date.now())));
    showStatus();
  }

  function showStatus() {
    if (!status) return;
    const { seconds, source } = delay();
    const rounded = Math.round(seconds);
    const text = source === "none" || rounded === 0
      ? (choice === "none" ? t("Neues erscheint sofort.") : "")
      : t("Neues aus dem Studio erscheint {seconds} Sekunden später, wenn Ihr Video so weit ist.", { seconds: rounded });
    // A live region: written only when it says something new, so a screen reader is not told the same again.
    if (status.textContent !== text) status.textContent = text;
  }

  function receive(message) {
    if (message.type === MessageType.SNAPSHOT) {
      // The whole state now: what was still waiting is in it.
      waiting.length = 0;
      apply(message);
      drain();
      return;
    }
    if (!SHOWN_IN_THE_VIDEO.has(message.type) || (waiting.length === 0 && dueAt(message) <= Date.now())) {
      apply(message);
      return;
    }
    waiting.push(message);
    drain();
  }

  const frame = document.querySelector("[data-stream-frame]");
  if (frame) {
    new MutationObserver(() => {
      followPlayer();
      drain();
    }).observe(frame, { childList: true });
  }
  setUpChoice(document, {
    initial: choice,
    onChange(value) {
      choice = value;
      followPlayer();
      drain();
    },
  });
  followPlayer();
  // The figure shown follows the player's estimate as it settles.
  setInterval(showStatus, 5000);
  return {
    receive,
    onPong: (pong) => clock.onPong(pong),
    get delaySeconds() {
      return delay().seconds;
    },
  };
}
