"""Scan: ingest files, score every post the current model has not scored, open a case per flagged post, match
the posts against the banks.

The steps, each a module: `resolve` (inputs → files and parts), `ingest` (one part into the store), `score`
(the detector per process, score_posts, record), `text_chunks` (long texts in bounded memory), `hashes` (the
bank-matching pass), `run` (the local scan composed of them, and the tail every scan ends with). The cluster
scan (basira.cluster) runs the same steps as Dask tasks, so both leave the same database state.
"""

from basira.scan.resolve import ScanInput, normalize_format, resolve_inputs
from basira.scan.run import finish_scan, scan_paths
from basira.scan.score import score_posts
from basira.scan.summary import ScanSummary

__all__ = ["ScanInput", "ScanSummary", "finish_scan", "normalize_format", "resolve_inputs", "scan_paths",
           "score_posts"]
