"""Production on Docker Swarm: `shipyard deploy` and its status, logs, rollback and down."""
