"""The registry's rules: pure Python, no I/O.

- `nik`: the NIK, what may be derived from it, and the citizen's pseudonym.
- `check_in`: checking a citizen in (open session, offered services, priority, lansia).
- `tickets`: a ticket's states and transitions, transfers, quotas, ticket numbers.
- `queue`: the fair order of calls and the estimated waits.
- `offline`: batches uploaded by offline village desks.
"""
