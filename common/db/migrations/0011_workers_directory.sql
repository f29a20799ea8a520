-- chime.workers becomes the cluster's directory of workers. Each scheduler
-- replica knows only the workers that said hello to it (in Kubernetes a
-- Service sends each worker to one replica), so every replica publishes what
-- it knows here about once a second and jobctl workers reads the union. A
-- row is the freshest sighting of a worker by any replica; rows nobody has
-- refreshed for a while are deleted by the replicas.
ALTER TABLE chime.workers
  ADD COLUMN free_slots   integer  NOT NULL DEFAULT 0,
  ADD COLUMN running_jobs bigint[] NOT NULL DEFAULT '{}',
  ADD COLUMN version      text     NOT NULL DEFAULT '',
  ADD COLUMN seen_by      text     NOT NULL DEFAULT '';  -- The replica of the sighting.

-- Forgetting silent workers reads only the stale rows.
CREATE INDEX workers_last_seen_idx ON chime.workers (last_seen_at);
