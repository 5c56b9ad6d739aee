"""The accounts the documents post to: journal entries, closings, the FEC and e-reporting.

Read in this order: ``entries`` (pure: which accounts a document debits and credits),
``periods`` (pure: local days, months and fiscal years as instants), ``models`` (the stored
forms), ``journal`` (posting, inside the issuing transaction), ``closings`` (periods closed
with their totals, chained by hash), ``fec`` (the legal export), ``ereporting`` (daily B2C
aggregates), ``checks`` and ``closing_checks`` (what the audit verifies, for
``billing.audit``).
"""
