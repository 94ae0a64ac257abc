-- Privacy that holds under repeated questions (SAFETY.md §3 and §4).
--
-- day_keys / day_claims: one counted check-in per member per server per UTC day, across
-- restarts, without storing who. A claim is an HMAC of (server, member) under a random
-- key made for that day alone; the key and the day's claims are deleted once the day is
-- over, and from then on no one, not even with the member's id and the database, can tell
-- whose claim was whose.
CREATE TABLE day_keys (
    day TEXT NOT NULL PRIMARY KEY CHECK (date(day) IS day),
    key BLOB NOT NULL CHECK (length(key) = 32)
) STRICT, WITHOUT ROWID;

CREATE TABLE day_claims (
    day   TEXT NOT NULL CHECK (date(day) IS day),
    topic TEXT NOT NULL CHECK (topic GLOB '[a-z]*' AND length(topic) <= 40),
    tag   BLOB NOT NULL CHECK (length(tag) = 32),
    PRIMARY KEY (day, topic, tag)
) STRICT, WITHOUT ROWID;

-- published_periods / published_cells: a period's noisy counts, computed once when the
-- period is over and kept, so asking again (also after a restart) gets the same answer
-- and never fresh noise that could be averaged away. A period is a UTC week, named by
-- its Monday; a series is one table of counts, e.g. `checkin.mood`.
CREATE TABLE published_periods (
    guild_id     INTEGER NOT NULL CHECK (guild_id > 0),
    series       TEXT    NOT NULL CHECK (series GLOB '[a-z]*' AND length(series) <= 40),
    period_start TEXT    NOT NULL CHECK (date(period_start) IS period_start),
    PRIMARY KEY (guild_id, series, period_start)
) STRICT, WITHOUT ROWID;

CREATE TABLE published_cells (
    guild_id     INTEGER NOT NULL,
    series       TEXT    NOT NULL,
    period_start TEXT    NOT NULL,
    cell         TEXT    NOT NULL CHECK (length(cell) BETWEEN 1 AND 60),
    value        INTEGER NOT NULL,
    PRIMARY KEY (guild_id, series, period_start, cell),
    FOREIGN KEY (guild_id, series, period_start)
        REFERENCES published_periods (guild_id, series, period_start) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

CREATE INDEX published_periods_by_start ON published_periods (period_start);

-- Servers the bot was found not to be in, and since when; cleared when it is back.
CREATE TABLE absent_guilds (
    guild_id INTEGER NOT NULL PRIMARY KEY CHECK (guild_id > 0),
    since    TEXT    NOT NULL
) STRICT, WITHOUT ROWID;
