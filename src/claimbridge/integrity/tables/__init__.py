"""Reference tables in memory, indexed for the rules: NCCI PTP and MUE, the OIG LEIE, ICD-10-CM."""
