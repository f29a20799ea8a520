-- What a resolved alert says (issue 17): which run recovered and after how
-- many failed runs ("recovered by job 815 (succeeded on attempt 3, ...)
-- after 4 failed runs"), or the figures that stopped the rule from holding;
-- and that run's job, for the notice's link to the dashboard. Written once,
-- by the evaluation that resolves the alert.
ALTER TABLE chime.alerts
  ADD COLUMN resolution text,
  ADD COLUMN resolved_by_job bigint;
