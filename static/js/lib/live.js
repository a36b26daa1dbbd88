// One websocket per page: snapshot or resume from the last sequence number, reconnect with backoff.
import { t } from "./i18n.js";
import { CloseCode, MessageType } from "./protocol.js";

const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 15000;
// After 1001 (the server restarts, usually within seconds) the page tries every 0.5-2 s, jittered, this many times
// before it backs off: thousands of viewers then come back within a second or two of the server, not spread over
// the doubling delays of a backoff (a refused connection costs the server nothing).
const RESTART_ATTEMPTS = 30;
const RESTART_MIN_MS = 500;
const RESTART_SPREAD_MS = 1500;
const PING_EVERY_MS = 25000;
const PONG_DEADLINE_MS = 10000;
// How long an action waits for its reply before the caller falls back to HTTP (the server answers after its commit,
// milliseconds normally; seconds only in the largest bursts).
const REPLY_DEADLINE_MS = 15000;

/** An action could not be answered over the websocket (not open, closed, or no reply in time): use HTTP. */
export class SocketUnavailable extends Error {
  constructor(sent) {
    super("websocket unavailable");
    this.sent = sent; // whether the message went out (its outcome is then unknown)
  }
}

// `studio`: the token of a studio link (presenter screen, overlay), sent as `?studio=` instead of a login.
// `onPong({now, sentAt, receivedAt})`: the server's time (`now`) and when the ping went and its answer came.
export function connectLive({ slug, studio = null, onMessage, onStatus, onPong = null }) {
  let lastSeq = null;
  let attempt = 0;
  let socket = null;
  let retryTimer = null;
  let pingTimer = null;
  let pongTimer = null;
  let pingSentAt = 0;
  let stopped = false;
  let restarting = false; // closed with 1001: the server is coming back
  let refs = 0;
  const waiting = new Map(); // ref -> { resolve, reject, timer }

  function abandonAll() {
    for (const [ref, pending] of waiting) {
      clearTimeout(pending.timer);
      pending.reject(new SocketUnavailable(true));
      waiting.delete(ref);
    }
  }

  function url() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const params = new URLSearchParams();
    if (studio) params.set("studio", studio);
    if (lastSeq !== null) params.set("since", String(lastSeq));
    const query = params.toString();
    return `${scheme}//${location.host}/ws/events/${encodeURIComponent(slug)}${query ? `?${query}` : ""}`;
  }

  function open() {
    clearTimeout(retryTimer);
    retryTimer = null;
    onStatus({ state: attempt === 0 ? "connecting" : "reconnecting", attempt });
    socket = new WebSocket(url());
    socket.addEventListener("open", () => {
      attempt = 0;
      restarting = false;
      onStatus({ state: "live" });
      pingTimer = setInterval(ping, PING_EVERY_MS);
      if (onPong) ping(); // at once: the page needs the server's time before the first change arrives
    });
    socket.addEventListener("message", (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (message.type === MessageType.PONG) {
        clearTimeout(pongTimer);
        if (onPong) onPong({ now: message.now, sentAt: pingSentAt, receivedAt: Date.now() });
        return;
      }
      if (message.type === MessageType.REPLY) {
        const pending = waiting.get(message.ref);
        if (pending) {
          waiting.delete(message.ref);
          clearTimeout(pending.timer);
          pending.resolve(message);
        }
        return;
      }
      if (typeof message.seq === "number" && message.type !== MessageType.ERROR) {
        lastSeq = lastSeq === null ? message.seq : Math.max(lastSeq, message.seq);
      }
      onMessage(message);
    });
    socket.addEventListener("close", (event) => {
      clearInterval(pingTimer);
      clearTimeout(pongTimer);
      socket = null;
      abandonAll();
      if (stopped) return;
      if (event.code === CloseCode.UNKNOWN_EVENT) {
        onStatus({ state: "gone" });
        return;
      }
      if (event.code === CloseCode.GOING_AWAY) restarting = true;
      scheduleRetry();
    });
  }

  function ping() {
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    pingSentAt = Date.now();
    socket.send(JSON.stringify({ type: MessageType.PING }));
    clearTimeout(pongTimer);
    // A connection that silently died (phone in a tunnel) is noticed here, not minutes later.
    pongTimer = setTimeout(() => socket && socket.close(), PONG_DEADLINE_MS);
  }

  function scheduleRetry() {
    attempt += 1;
    let delay;
    if (restarting && attempt <= RESTART_ATTEMPTS) {
      delay = Math.round(RESTART_MIN_MS + Math.random() * RESTART_SPREAD_MS);
    } else {
      // Full jitter: thousands of viewers who lost the server at once must not return at once.
      const tries = restarting ? attempt - RESTART_ATTEMPTS : attempt;
      const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(tries, 10));
      delay = Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
    }
    onStatus({ state: "reconnecting", attempt, delay });
    retryTimer = setTimeout(open, delay);
  }

  window.addEventListener("online", () => {
    if (!socket && !stopped) open();
  });

  open();
  return {
    get lastSeq() {
      return lastSeq;
    },
    /** Sends a message if the socket is open; false when it is not (the caller may fall back to HTTP). */
    send(message) {
      if (!socket || socket.readyState !== WebSocket.OPEN) return false;
      socket.send(JSON.stringify(message));
      return true;
    },
    /**
     * Sends an action (`{type: "ballot", poll_id, options}`) and resolves with its `reply` ({status, body}) once the
     * server committed it; rejects with SocketUnavailable when the socket is not open, closes first, or stays silent.
     */
    request(message, ref = undefined) {
      if (!socket || socket.readyState !== WebSocket.OPEN) return Promise.reject(new SocketUnavailable(false));
      refs += 1;
      ref = ref || `a${refs}`;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(ref);
          reject(new SocketUnavailable(true));
        }, REPLY_DEADLINE_MS);
        waiting.set(ref, { resolve, reject, timer });
        socket.send(JSON.stringify({ ...message, ref }));
      });
    },
    stop() {
      stopped = true;
      if (socket) socket.close();
    },
  };
}

export function showConnection(element, status) {
  if (!element) return;
  const text = element.querySelector("[data-connection-text]");
  element.dataset.state = status.state;
  if (status.state === "live") {
    text.textContent = t("Live verbunden");
  } else if (status.state === "connecting") {
    text.textContent = t("Verbindung wird aufgebaut …");
  } else if (status.state === "gone") {
    text.textContent = t("Diese Veranstaltung gibt es nicht mehr.");
  } else if (status.delay) {
    text.textContent = t("Verbindung unterbrochen – neuer Versuch in {seconds} s …", {
      seconds: Math.ceil(status.delay / 1000),
    });
  } else {
    text.textContent = t("Verbindung unterbrochen – neuer Versuch …");
  }
}
