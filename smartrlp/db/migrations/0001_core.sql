-- The core: events, questions with votes, the per-event change log, moderators and their credentials.

CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    hashtag TEXT NOT NULL DEFAULT '',
    starts_at TEXT,
    ends_at TEXT,
    youtube_url TEXT,
    facebook_url TEXT,
    questions_open INTEGER NOT NULL DEFAULT 1,
    on_air_question_id INTEGER,
    -- The last sequence number handed out for this event's change log; bumped in the same transaction
    -- as the change it numbers, so numbers are gap-free and survive restarts.
    last_seq INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);

CREATE TABLE agenda_items (
    id INTEGER PRIMARY KEY,
    event_id INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    title TEXT NOT NULL,
    speakers TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL DEFAULT 'talk' CHECK (kind IN ('talk', 'video', 'discussion', 'questions')),
    starts_at TEXT,
    duration_minutes INTEGER
);
CREATE INDEX agenda_items_by_event ON agenda_items(event_id, position);

CREATE TABLE questions (
    id INTEGER PRIMARY KEY,
    event_id INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    text TEXT NOT NULL,
    name TEXT,
    -- The asker's device, so the asker sees their own questions; never sent to anyone.
    device_id TEXT,
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'approved', 'rejected', 'answered')),
    votes INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    answered_at TEXT
);
CREATE INDEX questions_by_event ON questions(event_id, status);
CREATE INDEX questions_by_device ON questions(device_id);

CREATE TABLE question_votes (
    question_id INTEGER NOT NULL REFERENCES questions(id) ON DELETE CASCADE,
    device_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (question_id, device_id)
) WITHOUT ROWID;

CREATE TABLE changes (
    event_id INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    type TEXT NOT NULL,
    -- 'public' goes to everyone; 'staff' to moderators and to the one device named below (the asker).
    audience TEXT NOT NULL CHECK (audience IN ('public', 'staff')),
    device_id TEXT,
    -- The websocket message exactly as it was broadcast, so a replay sends the same bytes.
    message TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (event_id, seq)
) WITHOUT ROWID;

CREATE TABLE moderators (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL DEFAULT 'moderator' CHECK (role IN ('moderator', 'admin')),
    created_at TEXT NOT NULL
);

-- A moderator with no rows here may moderate every event; rows restrict them to the events named.
CREATE TABLE event_moderators (
    event_id INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    moderator_id INTEGER NOT NULL REFERENCES moderators(id) ON DELETE CASCADE,
    PRIMARY KEY (event_id, moderator_id)
) WITHOUT ROWID;

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    moderator_id INTEGER NOT NULL REFERENCES moderators(id) ON DELETE CASCADE,
    -- SHA-256 of the token: tokens are 256 random bits, so a slow hash adds nothing.
    token_hash TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT
);

CREATE TABLE login_sessions (
    id TEXT PRIMARY KEY,
    moderator_id INTEGER NOT NULL REFERENCES moderators(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL
) WITHOUT ROWID;

-- What each moderator did, with the question's state before and after, so the last action can be undone.
CREATE TABLE moderation_actions (
    id INTEGER PRIMARY KEY,
    event_id INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    moderator_id INTEGER REFERENCES moderators(id) ON DELETE SET NULL,
    question_id INTEGER NOT NULL REFERENCES questions(id) ON DELETE CASCADE,
    before_state TEXT NOT NULL,
    after_state TEXT NOT NULL,
    created_at TEXT NOT NULL,
    undone_at TEXT
);
CREATE INDEX moderation_actions_by_moderator ON moderation_actions(event_id, moderator_id, id);

CREATE TABLE app_secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
