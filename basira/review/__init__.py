"""Review workflow: queue and claims, decisions with an undo window, appeals, audit chain, webhooks.

Domain logic (priority, decisions, policy, webhooks signing/backoff, content display) is pure; `service`
wires it to the store."""
