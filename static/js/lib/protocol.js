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
  PING: "ping",
  REACT: "react",
});

export const CloseCode = Object.freeze({
  GOING_AWAY: 1001,
  UNKNOWN_EVENT: 4404,
  TOO_SLOW: 4008,
  RATE_LIMITED: 4029,
  TOO_LARGE: 1009,
});

export const PUBLIC_STATUSES = Object.freeze(["approved", "answered"]);

export const REACTION_KINDS = Object.freeze(["applause", "thumbs_up", "heart", "thinking"]);
