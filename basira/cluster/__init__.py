"""Scans and rescoring on a Dask cluster (`basira scan --cluster`, `basira rescore --cluster`).

The client splits the inputs into tasks (files; byte ranges of large JSON Lines files, aligned to line starts);
Dask workers parse and ingest them into PostgreSQL with the local scan's checkpoints, then score windows of post
ids (the detector loaded once per worker by a WorkerPlugin) with the local scan's score_posts and
record_detections. The store is idempotent, so a task Dask retries after a worker dies adds nothing twice; the
client runs the hash pass and the summary. Inputs must be readable by every worker at the same path.
"""
