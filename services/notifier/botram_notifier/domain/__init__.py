"""The notifier's rules, free of I/O: subscriptions, deliveries, citizen messages.

- `subscriptions`: what an agency may subscribe to, which events match, webhook URLs, SSRF.
- `ownership`: whose subscriptions and deliveries an actor may see and change.
- `deliveries`: a delivery's states, what an endpoint's answer means, retries, auto-disable.
- `messages`: citizen messages (Bahasa Indonesia), the queue projection, when not to send.
"""
