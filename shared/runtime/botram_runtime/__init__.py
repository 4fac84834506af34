"""What every Botram service process shares: database, bus, outbox/inbox, errors, routes."""
