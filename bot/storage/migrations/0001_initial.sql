-- Small key/value facts the bot keeps about itself, such as the hash of the slash
-- commands at the last successful sync (so an unchanged restart sends no sync request).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
