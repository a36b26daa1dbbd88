-- One row that Database.watch_storage rewrites while the storage is unavailable, to find out when writes work again.
CREATE TABLE storage_probe (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    written_at TEXT NOT NULL
);
