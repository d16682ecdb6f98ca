"""The bottom of the house: errors, settings, time, JSON lines and the background loop. Imports nothing above it."""
