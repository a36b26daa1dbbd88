// One websocket per page: snapshot or resume from the last sequence number, reconnect with backoff.
import { t } from "./i18n.js";
import { CloseCode, MessageType } from "./protocol.js";

const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 15000;
const PING_EVERY_MS = 25000;
const PONG_DEADLINE_MS = 10000;

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
      if (typeof message.seq === "number" && message.type !== MessageType.ERROR) {
        lastSeq = lastSeq === null ? message.seq : Math.max(lastSeq, message.seq);
      }
      onMessage(message);
    });
    socket.addEventListener("close", (event) => {
      clearInterval(pingTimer);
      clearTimeout(pongTimer);
      socket = null;
      if (stopped) return;
      if (event.code === CloseCode.UNKNOWN_EVENT) {
        onStatus({ state: "gone" });
        return;
      }
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
    // Full jitter: thousands of viewers who lost the server at once must not return at once.
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(attempt, 10));
    const delay = Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
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
