"""Messages to people: one outbox, two channels (email through SMTP, SMS through a gateway)."""
