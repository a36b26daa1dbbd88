// Mirror of smartrlp/protocol.py; tests/test_protocol.py keeps the two in step.
export const MessageType = Object.freeze({
  SNAPSHOT: "snapshot",
  SYNCED: "synced",
  QUESTION: "question",
  VOTES: "votes",
  ON_AIR: "on_air",
  EVENT: "event",
  PONG: "pong",
  ERROR: "error",
  PING: "ping",
});

export const CloseCode = Object.freeze({
  GOING_AWAY: 1001,
  UNKNOWN_EVENT: 4404,
  TOO_SLOW: 4008,
});

export const PUBLIC_STATUSES = Object.freeze(["approved", "answered"]);
