// A viewer's actions (ask, upvote, unvote, ballot, report) through one function: over the open websocket, answered
// after the server's commit with the same status and body as over HTTP, and over HTTP while the socket is not open
// (docs/api.md, "Actions"). Callers see one result or one ApiError either way.
import { ApiError, api } from "./api.js";
import { SocketUnavailable } from "./live.js";
import { MessageType } from "./protocol.js";

// The HTTP endpoint of each action: method and address; the path's id comes out of the fields.
const HTTP_ROUTES = Object.freeze({
  [MessageType.ASK]: ["POST", (urls) => urls.questions()],
  [MessageType.UPVOTE]: ["POST", (urls, fields) => urls.questionVotes(fields.question_id)],
  [MessageType.UNVOTE]: ["DELETE", (urls, fields) => urls.questionVotes(fields.question_id)],
  [MessageType.BALLOT]: ["POST", (urls, fields) => urls.pollVotes(fields.poll_id)],
  [MessageType.REPORT]: ["POST", (urls, fields) => urls.questionReports(fields.question_id)],
});
const PATH_FIELDS = ["question_id", "poll_id"];
// Actions whose endpoints take no body.
const NO_BODY = new Set([MessageType.UPVOTE, MessageType.UNVOTE]);

function errorOf(reply) {
  const error = (reply.body && reply.body.error) || {};
  const apiError = new ApiError(reply.status, error.code || `http_${reply.status}`, error.message || "", error.details);
  apiError.retryAfter = reply.retry_after || null;
  return apiError;
}

function overHttp(urls, type, fields, ref) {
  const [method, address] = HTTP_ROUTES[type];
  const body = {};
  for (const [key, value] of Object.entries(fields)) if (!PATH_FIELDS.includes(key)) body[key] = value;
  return api(method, address(urls, fields), NO_BODY.has(type) ? undefined : body, { "Idempotency-Key": ref });
}

// A name for one action, the same over the websocket (`ref`) and in its HTTP repeat (`Idempotency-Key`), unique
// across reloads of the page: the server stores an ask it has seen under this name only once.
function newRef() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `k${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/**
 * `const actions = viewerActions(urls)`; once the page's live connection exists, `actions.useSocket(live)`.
 * `await actions.act("ballot", { poll_id: 3, options: [11] })` resolves with the reply's body or throws ApiError.
 */
export function viewerActions(urls) {
  let live = null;
  return {
    useSocket(connection) {
      live = connection;
    },
    async act(type, fields = {}) {
      if (!HTTP_ROUTES[type]) throw new Error(`unknown action ${type}`);
      const ref = newRef();
      if (live) {
        try {
          const reply = await live.request({ type, ...fields }, ref);
          if (reply.status >= 400) throw errorOf(reply);
          return reply.body;
        } catch (error) {
          if (!(error instanceof SocketUnavailable)) throw error;
          // Not sent, or sent and the socket closed before the reply: HTTP instead, under the same name. Every
          // action is then answered as the first: votes, ballots and reports by their nature, an ask by its name.
        }
      }
      return overHttp(urls, type, fields, ref);
    },
  };
}
