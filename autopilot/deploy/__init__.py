"""What runs after training: ``serve`` (the endpoint, with data capture), ``batch`` (transform), ``baseline`` (Model
Monitor's statistics and constraints) and ``monitor`` (drift, model quality and attribution drift, with a report)."""
