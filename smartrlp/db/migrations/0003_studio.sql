-- The studio side: what the presenter screen and overlay show, join codes, and read-only links for studio machines.
ALTER TABLE events ADD COLUMN join_code TEXT;
CREATE UNIQUE INDEX events_join_code ON events (join_code);
-- What the moderator sends to the presenter screen and the overlay.
ALTER TABLE events ADD COLUMN screen_mode TEXT NOT NULL DEFAULT 'none'
    CHECK (screen_mode IN ('none', 'question', 'poll', 'join'));
ALTER TABLE events ADD COLUMN screen_poll_id INTEGER REFERENCES polls (id) ON DELETE SET NULL;

CREATE TABLE studio_links (
    id INTEGER PRIMARY KEY,
    event_id INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    view TEXT NOT NULL CHECK (view IN ('present', 'overlay')),
    token_hash TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL DEFAULT '',
    created_by INTEGER REFERENCES moderators (id) ON DELETE SET NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX studio_links_event ON studio_links (event_id);
