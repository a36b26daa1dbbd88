-- Retention: when the names and device ids of an ended event were removed, so that a purge is done once.
-- The row goes with its event (ON DELETE CASCADE), like everything else the event holds.
CREATE TABLE event_purges (
    event_id INTEGER PRIMARY KEY REFERENCES events (id) ON DELETE CASCADE,
    purged_at TEXT NOT NULL,
    -- The end and the retention the purge was based on, for an operator who asks why it happened then.
    ends_at TEXT NOT NULL,
    retention_days INTEGER NOT NULL
);
