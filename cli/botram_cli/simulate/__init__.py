"""`botram simulate`: a Botram day driven through the real system's HTTP API."""
