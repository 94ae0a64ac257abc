-- Scheduled prompts. A schedule keeps the moderator's local wall-clock time and the zone's
-- name, never a UTC offset, so 09:00 stays 09:00 when the clocks change. `next_due` is the
-- UTC instant of the next occurrence the scheduler will handle; it moves forward in the
-- same transaction that claims or skips an occurrence.
CREATE TABLE schedules (
    key           INTEGER PRIMARY KEY,
    guild_id      INTEGER NOT NULL,
    short_id      TEXT    NOT NULL,
    channel_id    INTEGER NOT NULL,
    local_time    TEXT    NOT NULL,
    -- Monday is bit 0, Sunday bit 6.
    days          INTEGER NOT NULL CHECK (days BETWEEN 1 AND 127),
    timezone      TEXT    NOT NULL,
    kind          TEXT    NOT NULL,
    created_at    TEXT    NOT NULL,
    next_due      TEXT    NOT NULL,
    paused_reason TEXT,
    UNIQUE (guild_id, short_id)
) STRICT;

CREATE INDEX schedules_due ON schedules (next_due) WHERE paused_reason IS NULL;

-- One row per occurrence the scheduler took charge of. UNIQUE (schedule_key, due) is the
-- exactly-once guarantee: a second claim of the same occurrence fails inside SQLite, so no
-- second task or second process can post it again.
CREATE TABLE schedule_runs (
    id           INTEGER PRIMARY KEY,
    schedule_key INTEGER NOT NULL REFERENCES schedules (key) ON DELETE CASCADE,
    due          TEXT    NOT NULL,
    status       TEXT    NOT NULL
                 CHECK (status IN ('claimed', 'sent', 'skipped', 'failed', 'unknown')),
    prompt_id    TEXT,
    claimed_at   TEXT    NOT NULL,
    message_id   INTEGER,
    attempts     INTEGER NOT NULL DEFAULT 0,
    detail       TEXT,
    UNIQUE (schedule_key, due)
) STRICT;

-- Prompts a server has already been shown in the current cycle of a kind. When every
-- prompt of the kind has been shown, the rows are cleared and `cycle` counts up.
CREATE TABLE prompt_usage (
    guild_id  INTEGER NOT NULL,
    kind      TEXT    NOT NULL,
    prompt_id TEXT    NOT NULL,
    PRIMARY KEY (guild_id, kind, prompt_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE prompt_cycles (
    guild_id       INTEGER NOT NULL,
    kind           TEXT    NOT NULL,
    cycle          INTEGER NOT NULL DEFAULT 0,
    last_prompt_id TEXT,
    PRIMARY KEY (guild_id, kind)
) STRICT, WITHOUT ROWID;
