"""Partners' formats and live exchanges: python-threatexchange files, Tech Against Terrorism's hash list,
STIX 2.1, and the ThreatExchange / TAT API clients (through python-threatexchange). See docs/hash-matching.md."""
