"""The admin commands of `kiosk-server`, one module per group, each adding its commands to
the parser (`register`) and working on the database directly (`common`)."""
