"""Real-time content intake (POST /api/v1/content, `basira worker`): a platform hands Basira posts as they are
published. Items go through the scan's own steps (store ingest batch, score_posts/record_detections, the hash
pass), so a post submitted here ends in the same state as the same post scanned from a file."""
