-- The people on the panel, and to whom a viewer addressed a question (NULL: the whole panel).
CREATE TABLE panelists (
    id INTEGER PRIMARY KEY,
    event_id INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL DEFAULT ''
);
CREATE INDEX panelists_event ON panelists (event_id, position);
ALTER TABLE questions ADD COLUMN panelist_id INTEGER REFERENCES panelists (id) ON DELETE SET NULL;
