"""The media fetcher moved below the web layer (basira.ingest.media_fetch), where content intake uses it too;
these names stay importable from here for the HMA-compatible API."""

from basira.ingest.media_fetch import MAX_REDIRECTS, Fetched, FetchError, FetchPolicy, check_url, fetch_media

__all__ = ["MAX_REDIRECTS", "FetchError", "FetchPolicy", "Fetched", "check_url", "fetch_media"]
