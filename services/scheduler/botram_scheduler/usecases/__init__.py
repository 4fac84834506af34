"""The scheduler's use cases, one module per capability; each owns one transaction.

- `sessions`: sessions by hand (create, get, list, reschedule) and their lifecycle by a person.
- `edits`: a session's services, quotas, venue or hours changed (what its status allows).
- `lifecycle`: the clock that opens and closes sessions at their start and end.
- `generation`: the rotation rules turned into sessions (preview, or store and announce).
- `demand`: the latest demand ranking of each level, from reporting's events.
- `calendar`: the calendar as iCalendar for planners' and citizens' calendar apps.
"""
