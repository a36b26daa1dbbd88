-- Live polls: prepared as drafts, launched and closed by moderators, one ballot per device and poll.
CREATE TABLE polls (
    id INTEGER PRIMARY KEY,
    event_id INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    title TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('single', 'multiple', 'rating', 'words')),
    state TEXT NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'open', 'closed')),
    results_visibility TEXT NOT NULL DEFAULT 'live' CHECK (results_visibility IN ('live', 'after_close', 'never')),
    max_choices INTEGER,
    scale_max INTEGER,
    version INTEGER NOT NULL DEFAULT 1,
    opened_at TEXT,
    closed_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX polls_event ON polls (event_id, position);

CREATE TABLE poll_options (
    id INTEGER PRIMARY KEY,
    poll_id INTEGER NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    label TEXT NOT NULL
);
CREATE INDEX poll_options_poll ON poll_options (poll_id, position);

-- One row per device and poll: a new ballot replaces the old one, so totals count devices.
CREATE TABLE poll_ballots (
    poll_id INTEGER NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    device_id TEXT NOT NULL,
    value INTEGER,
    word TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (poll_id, device_id)
) WITHOUT ROWID;
CREATE INDEX poll_ballots_value ON poll_ballots (poll_id, value);
CREATE INDEX poll_ballots_word ON poll_ballots (poll_id, word);

CREATE TABLE poll_ballot_options (
    poll_id INTEGER NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    device_id TEXT NOT NULL,
    option_id INTEGER NOT NULL REFERENCES poll_options (id) ON DELETE CASCADE,
    PRIMARY KEY (poll_id, device_id, option_id)
) WITHOUT ROWID;
CREATE INDEX poll_ballot_options_option ON poll_ballot_options (poll_id, option_id);
