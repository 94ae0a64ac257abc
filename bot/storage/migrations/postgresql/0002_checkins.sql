-- PostgreSQL twin of ../0002_checkins.sql (SAFETY.md §3): a random id, the server, the UTC
-- day, the mood and feeling ids; nothing that points to a member, nothing finer than the
-- day, no free text. The key is random bytes, never a sequence, so no column grows with
-- arrival; the heap's own order and the rows' transaction ids are erased by the engine's
-- settle (bot/storage/postgres.py).
CREATE TABLE checkins (
    id       BYTEA   NOT NULL CHECK (length(id) = 16),
    guild_id BIGINT  NOT NULL CHECK (guild_id > 0),
    day      TEXT    NOT NULL CHECK (
        day ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' AND to_char(day::date, 'YYYY-MM-DD') = day
    ),
    mood     INTEGER NOT NULL CHECK (mood BETWEEN 1 AND 5),
    feelings TEXT    NOT NULL DEFAULT '' CHECK (
        length(feelings) <= 200 AND feelings ~ '^([a-z0-9-]+( [a-z0-9-]+){0,2})?$'
    ),
    CONSTRAINT checkins_pkey PRIMARY KEY (id)
);

CREATE INDEX checkins_by_server_day ON checkins (guild_id, day, mood, feelings);

CREATE INDEX checkins_by_day ON checkins (day);
