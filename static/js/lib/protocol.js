// Mirror of smartrlp/protocol.py; tests/test_protocol.py keeps the two in step.
export const MessageType = Object.freeze({
  SNAPSHOT: "snapshot",
  SYNCED: "synced",
  QUESTION: "question",
  VOTES: "votes",
  ON_AIR: "on_air",
  EVENT: "event",
  POLL: "poll",
  POLL_DELETED: "poll_deleted",
  SCREEN: "screen",
  MODERATION_NOTES: "moderation_notes",
  MODERATION_ACTION: "moderation_action",
  POLL_RESULTS: "poll_results",
  REACTIONS: "reactions",
  PONG: "pong",
  ERROR: "error",
  REPLY: "reply",
  PING: "ping",
  REACT: "react",
  ASK: "ask",
  UPVOTE: "upvote",
  UNVOTE: "unvote",
  BALLOT: "ballot",
  REPORT: "report",
});

// A viewer's actions over the open websocket, each answered by a `reply` with the HTTP status and body.
export const ACTION_TYPES = Object.freeze(["ask", "upvote", "unvote", "ballot", "report"]);
export const MAX_REF_LENGTH = 64;

export const CloseCode = Object.freeze({
  GOING_AWAY: 1001,
  INVALID_DATA: 1007,
  UNKNOWN_EVENT: 4404,
  TOO_SLOW: 4008,
  RATE_LIMITED: 4029,
  TOO_LARGE: 1009,
});

export const PUBLIC_STATUSES = Object.freeze(["approved", "answered"]);

export const REACTION_KINDS = Object.freeze(["applause", "thumbs_up", "heart", "thinking"]);
