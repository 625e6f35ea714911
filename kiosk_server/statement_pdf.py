"""A monthly statement as a one-page PDF (fpdf2), in the site's language: the person, the
month, the balances and movements, and the VAT per rate. Amounts are written with the currency's
code (`12,50 EUR`): the PDF core fonts have no euro sign, and no font file is shipped. Pages are
left uncompressed: a statement is a few kilobytes, and its text can be searched as it is."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from kiosk_server.i18n import language_of

if TYPE_CHECKING:
    from kiosk_server.schemas import Money
    from kiosk_server.schemas_money import Statement

_WORDS = {
    "fr": {
        "title": "Relevé mensuel",
        "account": "Compte",
        "opening": "Solde d'ouverture",
        "top_ups": "Rechargements",
        "purchases": "Achats",
        "refunds": "Remboursements",
        "adjustments": "Ajustements",
        "closing": "Solde de clôture",
        "vat": "TVA des achats (remboursements déduits)",
        "rate": "Taux",
        "base": "HT",
        "tax": "TVA",
        "total": "TTC",
        "count": "nombre",
    },
    "en": {
        "title": "Monthly statement",
        "account": "Account",
        "opening": "Opening balance",
        "top_ups": "Top-ups",
        "purchases": "Purchases",
        "refunds": "Refunds",
        "adjustments": "Adjustments",
        "closing": "Closing balance",
        "vat": "VAT on purchases (net of refunds)",
        "rate": "Rate",
        "base": "Base",
        "tax": "VAT",
        "total": "Total",
        "count": "count",
    },
}


def _latin(text: str) -> str:
    """What the core fonts can draw: narrow no-break spaces become no-break spaces, and any
    other character outside Latin-1 a question mark."""
    return text.replace("\u202f", "\u00a0").encode("latin-1", "replace").decode("latin-1")


def statement_pdf(statement: Statement, *, locale: str) -> bytes:
    """The statement as PDF bytes, worded and formatted for `locale` (`fr_FR`...)."""
    from babel.numbers import format_currency
    from fpdf import FPDF

    language = language_of(locale)
    words = _WORDS[language]

    def money(amount: Money, *, signed: bool = False) -> str:
        text = format_currency(
            Decimal(amount.amount_cents) / 100,
            amount.currency,
            format="#,##0.00 ¤¤",
            locale=locale,
            currency_digits=False,
        )
        if signed and amount.amount_cents > 0:
            text = "+" + text
        return _latin(text)

    pdf = FPDF(format="A4")
    pdf.set_compression(False)
    pdf.set_title(_latin(f"{words['title']} {statement.month}"))
    pdf.add_page()
    pdf.set_font("helvetica", style="B", size=16)
    pdf.cell(0, 10, _latin(f"{words['title']} {statement.month}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", size=11)
    pdf.cell(0, 7, _latin(statement.site.name), new_x="LMARGIN", new_y="NEXT")
    pdf.cell(
        0,
        7,
        _latin(f"{words['account']} {statement.identifier} - {statement.name}"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(4)
    rows = [
        (words["opening"], "", money(statement.opening_balance)),
        (words["top_ups"], str(statement.top_ups.count), money(statement.top_ups.amount)),
        (words["purchases"], str(statement.purchases.count), money(statement.purchases.amount)),
        (words["refunds"], str(statement.refunds.count), money(statement.refunds.amount)),
        (
            words["adjustments"],
            str(statement.adjustments.count),
            money(statement.adjustments.amount, signed=True),
        ),
        (words["closing"], "", money(statement.closing_balance)),
    ]
    for index, (label, count, amount) in enumerate(rows):
        bold = index in (0, len(rows) - 1)
        pdf.set_font("helvetica", style="B" if bold else "", size=11)
        pdf.cell(90, 8, _latin(label), border="B")
        pdf.cell(30, 8, count, border="B", align="R")
        pdf.cell(50, 8, amount, border="B", align="R", new_x="LMARGIN", new_y="NEXT")
    if statement.vat:
        pdf.ln(6)
        pdf.set_font("helvetica", style="B", size=11)
        pdf.cell(0, 8, _latin(words["vat"]), new_x="LMARGIN", new_y="NEXT")
        for header, width in ((words["rate"], 30), (words["base"], 45), (words["tax"], 45)):
            pdf.cell(width, 7, _latin(header), border="B", align="R")
        pdf.cell(
            50, 7, _latin(words["total"]), border="B", align="R", new_x="LMARGIN", new_y="NEXT"
        )
        pdf.set_font("helvetica", size=11)
        for rate in statement.vat:
            percent = f"{Decimal(rate.rate_bp) / 100:f}".rstrip("0").rstrip(".") + " %"
            pdf.cell(
                30, 7, _latin(percent.replace(".", ",") if language == "fr" else percent), align="R"
            )
            pdf.cell(45, 7, money(rate.base), align="R")
            pdf.cell(45, 7, money(rate.vat), align="R")
            pdf.cell(50, 7, money(rate.total), align="R", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
