-- Each server's own settings, chosen by its moderators with /settings. A column left
-- NULL (or a server with no row) takes the host's default from the config file.
-- first_run_noted: the private "what is not set up yet" note was shown to a moderator.
CREATE TABLE server_settings (
    guild_id             INTEGER NOT NULL PRIMARY KEY CHECK (guild_id > 0),
    reach_out_channel_id INTEGER CHECK (reach_out_channel_id > 0),
    region               TEXT    CHECK (region GLOB '[A-Z][A-Z]' OR region = 'INTL'),
    timezone             TEXT    CHECK (length(timezone) BETWEEN 1 AND 64),
    min_group_size       INTEGER CHECK (min_group_size >= 5),
    roles_chosen         INTEGER NOT NULL DEFAULT 0 CHECK (roles_chosen IN (0, 1)),
    first_run_noted      INTEGER NOT NULL DEFAULT 0 CHECK (first_run_noted IN (0, 1))
) STRICT;

-- The roles whose members are moderators in that server (ids: names are not unique).
-- Used once server_settings.roles_chosen is 1; an empty set then means Manage Server only.
CREATE TABLE server_moderator_roles (
    guild_id INTEGER NOT NULL REFERENCES server_settings (guild_id) ON DELETE CASCADE,
    role_id  INTEGER NOT NULL CHECK (role_id > 0),
    PRIMARY KEY (guild_id, role_id)
) STRICT, WITHOUT ROWID;

-- The smallest group size a period was published under: lowering a server's setting
-- applies only to periods published after the change. NULL: published before this
-- column existed, under the host's setting of the time.
ALTER TABLE published_periods ADD COLUMN min_group_size INTEGER CHECK (min_group_size >= 5);
