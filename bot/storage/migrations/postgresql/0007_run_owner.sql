-- Which process claimed a run (a random token the process makes at start, nothing about
-- any member). When several processes share the database, a process starting up settles
-- only the unfinished runs of processes that are gone, never those another live process
-- is still posting. NULL: claimed before owners were recorded, so treated as gone.
ALTER TABLE schedule_runs ADD COLUMN owner TEXT;
