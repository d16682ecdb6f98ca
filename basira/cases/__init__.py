"""Cases, the product's central object: how they open (intake), how they rank (priority), how they are logged (events).

`basira.cases.intake.submit` is the only code that inserts or raises a case; detector, hash, network, order
and manual paths all call it inside their own transaction."""
