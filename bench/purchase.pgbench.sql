-- The anchor of bench/purchases_bench.py: a till purchase's writes as plain SQL, run by pgbench
-- on the bench's own database (its seeded accounts) with as many clients: the guarded balance
-- update, then the ledger entry, the ticket and its line. What the service does on top of
-- these (HTTP, the badge token, the idempotency key, the receipt) is what the ratio measures.
\set aid random(:min_id, :max_id)
BEGIN;
UPDATE accounts SET balance_cents = balance_cents - 1
    WHERE id = :aid AND balance_cents - 1 + overdraft_limit_cents >= 0;
WITH entry AS (
    INSERT INTO ledger_entries (site_id, account_id, kind, amount_cents, currency, reason, created_at)
    VALUES (:site_id, :aid, 'purchase', -1, 'EUR', 'pgbench', now()) RETURNING id
), ticket AS (
    INSERT INTO tickets (site_id, account_id, device_id, ledger_entry_id, kind, place, total_cents,
        amount_cents, balance_after_cents, currency, created_at)
    SELECT :site_id, :aid, NULL, entry.id, 'purchase', 'pgbench', 1, -1, 0, 'EUR', now() FROM entry
    RETURNING id
)
INSERT INTO ticket_lines (ticket_id, position, item, quantity, unit_price_cents, vat_rate_bp,
    line_total_cents)
SELECT ticket.id, 0, 'Café', 1, 1, 550, 1 FROM ticket;
END;
