"""The seller's identity, from the settings, as frozen on each invoice when it is finalised."""

from __future__ import annotations

from flask import current_app
from stdnum.fr import siren, siret

from billing.documents.model import french_number


class SellerConfigError(RuntimeError):
    pass


def late_interest_text(config) -> str:
    """The seller's payment-penalty clause, frozen on each invoice: from the settings."""
    margin = french_number(config["BILLING_LATE_MARGIN_BP"])
    indemnity = french_number(config["BILLING_RECOVERY_INDEMNITY_CENTS"])
    return (
        "En cas de retard de paiement, des intérêts moratoires sont dus au taux d'intérêt "
        "appliqué par la Banque centrale européenne à ses opérations principales de "
        f"refinancement, majoré de {margin} points, ainsi qu'une indemnité forfaitaire pour "
        f"frais de recouvrement de {indemnity} €. Pas d'escompte pour paiement anticipé."
    )


def seller_identity(config=None) -> dict:
    """The seller as printed on invoices; refuses identifiers that fail their checksums."""
    config = config or current_app.config
    siren_digits = config["SELLER_SIREN"].replace(" ", "")
    siret_digits = config["SELLER_SIRET"].replace(" ", "")
    if not siren.is_valid(siren_digits):
        raise SellerConfigError(f"SELLER_SIREN {siren_digits!r} is not a valid SIREN")
    if not (siret.is_valid(siret_digits) and siret_digits.startswith(siren_digits)):
        raise SellerConfigError(
            f"SELLER_SIRET {siret_digits!r} is not a valid SIRET of {siren_digits}"
        )
    return {
        "name": config["SELLER_NAME"],
        "legal_form": config["SELLER_LEGAL_FORM"],
        "share_capital": config["SELLER_SHARE_CAPITAL"],
        "siren": siren_digits,
        "siret": siret_digits,
        "vat_number": config["SELLER_VAT_NUMBER"].replace(" ", ""),
        "registration": config["SELLER_REGISTRATION"],
        "address_line1": config["SELLER_ADDRESS_LINE1"],
        "address_line2": config["SELLER_ADDRESS_LINE2"],
        "postcode": config["SELLER_POSTCODE"],
        "city": config["SELLER_CITY"],
        "country_code": config["SELLER_COUNTRY_CODE"],
        "email": config["SELLER_EMAIL"],
        "phone": config["SELLER_PHONE"],
        "iban": config["SELLER_IBAN"].replace(" ", ""),
        "bic": config["SELLER_BIC"],
        "late_interest_text": late_interest_text(config),
    }


def buyer_identity(customer) -> dict:
    """The customer as printed on an invoice (with its Chorus Pro references)."""
    return {
        "name": customer.legal_name,
        "siret": customer.siret,
        "siren": customer.siret[:9],
        "address_line1": customer.address_line1,
        "address_line2": customer.address_line2 or "",
        "postcode": customer.postcode,
        "city": customer.city,
        "country_code": customer.country_code,
        "email": customer.billing_email,
        "service_code": customer.service_code or "",
        "engagement_number": customer.engagement_number or "",
    }
