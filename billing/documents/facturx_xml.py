"""The EN 16931 XML of a document (UN/CEFACT CII, Factur-X profile EN 16931).

Built from ``content.Content`` only, so the XML and the PDF that embeds it say the same
thing. Amounts are before VAT per line and per rate, as EN 16931 counts them; the totals
are the document's own: sum of lines = sum of rates' bases, basis + VAT = grand total.
A line that reduces the total (a daily cap) has a negative quantity at a positive price
(an item's net price is never negative, BR-27). Lines outside the scope of VAT are in
category O with their legal reason.
"""

from __future__ import annotations

from decimal import Decimal

from lxml import etree

from billing import money
from billing.documents.content import Content, Party

RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
NSMAP = {"rsm": RSM, "ram": RAM, "udt": UDT, "qdt": QDT}
EN16931 = "urn:cen.eu:en16931:2017"
# ISO/IEC 6523 scheme of the French SIREN.
SIREN_SCHEME = "0002"


def build(content: Content) -> bytes:
    """Return the CII XML of a document, UTF-8, with its declaration."""
    root = etree.Element(_rsm("CrossIndustryInvoice"), nsmap=NSMAP)
    context = _sub(root, _rsm("ExchangedDocumentContext"))
    _sub(_sub(context, "GuidelineSpecifiedDocumentContextParameter"), "ID", EN16931)

    document = _sub(root, _rsm("ExchangedDocument"))
    _sub(document, "ID", content.number)
    _sub(document, "TypeCode", content.type_code)
    _date(_sub(document, "IssueDateTime"), content.issued_local.date(), UDT)
    _note(document, "Catégorie de l'opération : prestations de services.", "AAI")
    if content.reason:
        _note(document, content.reason, "ACD")

    transaction = _sub(root, _rsm("SupplyChainTradeTransaction"))
    for line in content.lines:
        item = _sub(transaction, "IncludedSupplyChainTradeLineItem")
        _sub(_sub(item, "AssociatedDocumentLineDocument"), "LineID", str(line.position))
        _sub(_sub(item, "SpecifiedTradeProduct"), "Name", line.description)
        negative = line.amount < 0
        price = _sub(_sub(item, "SpecifiedLineTradeAgreement"), "NetPriceProductTradePrice")
        _sub(price, "ChargeAmount", _decimal(abs(line.unit_price_net)))
        quantity = -line.quantity if negative and line.unit_price < 0 else line.quantity
        billed = _sub(
            _sub(item, "SpecifiedLineTradeDelivery"), "BilledQuantity", _decimal(quantity)
        )
        billed.set("unitCode", line.unit_code)
        settlement = _sub(item, "SpecifiedLineTradeSettlement")
        _tax(settlement, line.vat_rate, line.vat_exemption, basis=None, vat=None)
        if line.local_date is not None:
            period = _sub(settlement, "BillingSpecifiedPeriod")
            _date(_sub(period, "StartDateTime"), line.local_date, UDT)
            _date(_sub(period, "EndDateTime"), line.local_date, UDT)
        summation = _sub(settlement, "SpecifiedTradeSettlementLineMonetarySummation")
        _sub(summation, "LineTotalAmount", _amount(line.amount_net, content.currency))

    agreement = _sub(transaction, "ApplicableHeaderTradeAgreement")
    _party(_sub(agreement, "SellerTradeParty"), content.seller, seller=True)
    _party(_sub(agreement, "BuyerTradeParty"), content.buyer, seller=False)

    delivery = _sub(transaction, "ApplicableHeaderTradeDelivery")
    event = _sub(delivery, "ActualDeliverySupplyChainEvent")
    _date(_sub(event, "OccurrenceDateTime"), content.last_service_date, UDT)

    settlement = _sub(transaction, "ApplicableHeaderTradeSettlement")
    _sub(settlement, "InvoiceCurrencyCode", content.currency)
    for group in content.vat_totals:
        _tax(
            settlement,
            group.vat_rate,
            group.vat_exemption,
            basis=_amount(group.net, content.currency),
            vat=_amount(group.vat, content.currency),
        )
    period = _sub(settlement, "BillingSpecifiedPeriod")
    _date(_sub(period, "StartDateTime"), content.period_start_local.date(), UDT)
    _date(_sub(period, "EndDateTime"), content.last_service_date, UDT)
    terms = _sub(settlement, "SpecifiedTradePaymentTerms")
    _sub(terms, "Description", payment_terms_text(content))
    if content.payment_due_date is not None:
        _date(_sub(terms, "DueDateDateTime"), content.payment_due_date, UDT)
    totals = _sub(settlement, "SpecifiedTradeSettlementHeaderMonetarySummation")
    _sub(totals, "LineTotalAmount", _amount(content.net, content.currency))
    _sub(totals, "TaxBasisTotalAmount", _amount(content.net, content.currency))
    tax_total = _sub(totals, "TaxTotalAmount", _amount(content.vat, content.currency))
    tax_total.set("currencyID", content.currency)
    _sub(totals, "GrandTotalAmount", _amount(content.total, content.currency))
    _sub(totals, "DuePayableAmount", _amount(content.total, content.currency))
    if content.corrected_number:
        reference = _sub(settlement, "InvoiceReferencedDocument")
        _sub(reference, "IssuerAssignedID", content.corrected_number)
        if content.corrected_issued_date is not None:
            _date(_sub(reference, "FormattedIssueDateTime"), content.corrected_issued_date, QDT)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def payment_terms_text(content: Content) -> str:
    """Return the payment terms as printed (and as EN 16931 BT-20 states them)."""
    if content.kind == "credit_note":
        return "Avoir : montant remboursé sur le moyen de paiement de la facture corrigée."
    if content.payment_due_date is None:
        return "Payée par carte bancaire à l'émission de la facture."
    return (
        f"Paiement à {content.payment_terms_days} jours, au plus tard le "
        f"{content.payment_due_date:%d/%m/%Y}. Pas d'escompte pour paiement anticipé. "
        "Pénalités de retard : trois fois le taux d'intérêt légal (Code de commerce, "
        "art. L441-10). Indemnité forfaitaire pour frais de recouvrement : 40 € "
        "(art. D441-5)."
    )


def _party(element: etree._Element, party: Party, *, seller: bool) -> None:
    _sub(element, "Name", party.company or party.name)
    if seller and party.legal_form:
        _sub(element, "Description", party.legal_form)
    if party.siren:
        organization = _sub(element, "SpecifiedLegalOrganization")
        _sub(organization, "ID", party.siren).set("schemeID", SIREN_SCHEME)
        if not seller and party.company and party.name != party.company:
            _sub(organization, "TradingBusinessName", party.name)
    address = _sub(element, "PostalTradeAddress")
    _sub(address, "LineOne", " ".join(party.address.split()))
    _sub(address, "CountryID", party.country)
    if party.vat_id:
        registration = _sub(element, "SpecifiedTaxRegistration")
        _sub(registration, "ID", party.vat_id).set("schemeID", "VA")


def _tax(
    parent: etree._Element,
    vat_rate: Decimal | None,
    exemption: str,
    *,
    basis: str | None,
    vat: str | None,
) -> None:
    tax = _sub(parent, "ApplicableTradeTax")
    if vat is not None:
        _sub(tax, "CalculatedAmount", vat)
    _sub(tax, "TypeCode", "VAT")
    if vat_rate is None:
        _sub(tax, "ExemptionReason", exemption)
    if basis is not None:
        _sub(tax, "BasisAmount", basis)
    _sub(tax, "CategoryCode", _category(vat_rate))
    if vat_rate is not None:
        _sub(tax, "RateApplicablePercent", _decimal((vat_rate * 100).quantize(Decimal("0.01"))))


def _category(vat_rate: Decimal | None) -> str:
    # UNCL 5305: standard rate, zero rated, services outside the scope of tax.
    if vat_rate is None:
        return "O"
    return "Z" if vat_rate == 0 else "S"


def _note(document: etree._Element, text: str, subject: str) -> None:
    note = _sub(document, "IncludedNote")
    _sub(note, "Content", text)
    _sub(note, "SubjectCode", subject)


def _date(parent: etree._Element, day: object, namespace: str) -> None:
    element = etree.SubElement(parent, f"{{{namespace}}}DateTimeString")
    element.text = f"{day:%Y%m%d}"
    element.set("format", "102")


def _amount(amount: Decimal, currency: str) -> str:
    return money.format_amount(amount, currency)


def _decimal(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text if text not in {"-0", ""} else "0"


def _rsm(name: str) -> str:
    return f"{{{RSM}}}{name}"


def _sub(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    tag = name if name.startswith("{") else f"{{{RAM}}}{name}"
    element = etree.SubElement(parent, tag)
    if text is not None:
        element.text = text
    return element
