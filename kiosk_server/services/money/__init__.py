"""Money: every operation that moves a balance, each in a module of its own, all posting
through the one path of `ledger.post` (a ledger entry and its ticket, written together).

- `purchases`: a till's purchase paid with a badge token;
- `orders`: an order's payment and its refund when it is cancelled;
- `cash`: cash handed to a reception desk;
- `credits`: the credit of an online top-up the provider reports paid;
- `adjustments`: an admin's correction, and opening balances.

Reading the history (tickets, their lines and VAT) is `services.tickets`'s.
"""
