"""The notifier's use cases, one module per capability.

- `subscriptions`: agencies register, rotate, enable and disable webhook endpoints.
- `fan_out`: a consumed event becomes one delivery per matching subscription.
- `attempts`: the delivery worker's side: due deliveries, one attempt, its verdict.
- `deliveries`: dead letters and replays, as operators and agencies see them.
- `citizen_messages`: the queue projection and the messages events call for.
- `sending`: queued messages go out through the SMS gateway; opt-outs.
- `retention`: a closed session's phone numbers are erased.
"""
