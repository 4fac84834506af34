"""The registry's use cases, one module per capability; each owns its transaction.

- `sessions`: the local copy of each session, from the scheduler's events.
- `check_in`: checking citizens in, one at a time or in groups (group commit).
- `contact`: a checked-in citizen's phone (and name) changed by the front desk.
- `desks`: calling, recalling, completing, no-shows and transfers; a ticket's state.
- `queues`: each service's queue at a session, with estimated waits.
- `offline`: batches uploaded by offline village desks.
- `retention`: erasing personal data after the retention period.
- `display`: the public display of a session, live from the bus.
"""
