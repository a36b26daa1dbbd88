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
// The IFrame API script of YouTube; the tests put a stand-in of their own at this address.
export const YOUTUBE_API = "https://www.youtube.com/iframe_api";
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

let apiLoading = null;

function loadYouTubeApi() {
  if (window.YT && window.YT.Player) return Promise.resolve(window.YT);
  if (!apiLoading) {
    apiLoading = new Promise((resolve) => {
      const previous = window.onYouTubeIframeAPIReady;
      window.onYouTubeIframeAPIReady = () => {
        if (typeof previous === "function") previous();
        resolve(window.YT);
      };
      const script = document.createElement("script");
      script.src = YOUTUBE_API;
      script.async = true;
      document.head.append(script);
    });
  }
  return apiLoading;
}

/** Follows the YouTube player in `iframe`: `delay()` is its smoothed delay in seconds, or null when unknown. */
function youtubeDelay(iframe, clock) {
  let player = null;
  let smoothed = null;
  let lastSane = 0;
  let timer = null;

  function sample() {
    if (!player || !iframe.isConnected) return;
    let reference = null;
    let playing = false;
    try {
      // Undocumented: the wall-clock time (s) of the frame on screen, for live streams.
      reference = typeof player.getMediaReferenceTime === "function" ? player.getMediaReferenceTime() : null;
      playing = player.getPlayerState() === 1;
    } catch {
      return;
    }
    if (!playing || typeof reference !== "number" || !Number.isFinite(reference) || reference <= 0) return;
    const delay = clock.now() / 1000 - reference;
    if (delay < 0 || delay > SANE_DELAY_MAX_S) return;
    smoothed = smoothed === null ? delay : smoothed + SMOOTHING * (delay - smoothed);
    lastSane = Date.now();
  }

  loadYouTubeApi().then((YT) => {
    if (!iframe.isConnected) return;
    // The iframe is ours (consent.js made it with enablejsapi=1); the API attaches to it as it is.
    player = new YT.Player(iframe, {
      events: {
        onReady: () => {
          sample();
          timer = setInterval(sample, SAMPLE_EVERY_MS);
        },
      },
    });
  });

  return {
    delay() {
      return smoothed !== null && Date.now() - lastSane < SAMPLE_STALE_MS ? smoothed : null;
    },
    stop() {
      clearInterval(timer);
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
    if (source === "none" || rounded === 0) {
      status.textContent = choice === "none" ? t("Neues erscheint sofort.") : "";
    } else {
      status.textContent = t("Neues aus dem Studio erscheint {seconds} Sekunden später, wenn Ihr Video so weit ist.", {
        seconds: rounded,
      });
    }
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
