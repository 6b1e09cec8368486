"""The ROME (France Travail's job referential): its 14 domains and the job titles of the codes
listings use most, so that a page names a job, never its code."""

from __future__ import annotations

#: The first letter of a ROME code: its domain (French, English).
DOMAINS: dict[str, tuple[str, str]] = {
    "A": (
        "Agriculture, pêche, espaces verts et soins aux animaux",
        "Agriculture, fishing, green spaces and animal care",
    ),  # fmt: skip
    "B": ("Arts et façonnage d'ouvrages d'art", "Arts and crafts"),
    "C": ("Banque, assurance et immobilier", "Banking, insurance and real estate"),
    "D": ("Commerce, vente et grande distribution", "Trade, sales and retail"),
    "E": ("Communication, média et multimédia", "Communication and media"),
    "F": ("Construction, bâtiment et travaux publics", "Construction and public works"),
    "G": (
        "Hôtellerie-restauration, tourisme, loisirs et animation",
        "Hotels, restaurants, tourism and leisure",
    ),  # fmt: skip
    "H": ("Industrie", "Industry"),
    "I": ("Installation et maintenance", "Installation and maintenance"),
    "J": ("Santé", "Health"),
    "K": ("Services à la personne et à la collectivité", "Personal and community services"),
    "L": ("Spectacle", "Performing arts"),
    "M": ("Support à l'entreprise", "Business support"),
    "N": ("Transport et logistique", "Transport and logistics"),
}

#: ROME v3 job titles (fiches métiers) by code, in French (the referential's own words).
TITLES: dict[str, str] = {
    "A1101": "Conduite d'engins agricoles et forestiers",
    "A1201": "Bûcheronnage et élagage",
    "A1203": "Aménagement et entretien des espaces verts",
    "A1414": "Horticulture et maraîchage",
    "A1405": "Arboriculture et viticulture",
    "A1407": "Élevage bovin ou équin",
    "D1101": "Boucherie",
    "D1102": "Boulangerie - viennoiserie",
    "D1106": "Vente en alimentation",
    "D1401": "Assistanat commercial",
    "D1403": "Relation commerciale auprès de particuliers",
    "D1501": "Animation de vente",
    "D1507": "Mise en rayon libre-service",
    "F1602": "Électricité bâtiment",
    "F1603": "Installation d'équipements sanitaires et thermiques",
    "F1703": "Maçonnerie",
    "G1204": "Éducation en activités sportives",
    "G1602": "Personnel de cuisine",
    "G1603": "Personnel polyvalent en restauration",
    "G1703": "Réception en hôtellerie",
    "G1803": "Service en restauration",
    "I1304": "Installation et maintenance d'équipements industriels et d'exploitation",
    "I1604": "Mécanique automobile et entretien de véhicules",
    "J1102": "Médecine généraliste et spécialisée",
    "J1304": "Aide en puériculture",
    "J1404": "Kinésithérapie",
    "J1501": "Soins d'hygiène, de confort du patient",
    "J1502": "Coordination de services médicaux ou paramédicaux",
    "J1506": "Soins infirmiers généralistes",
    "K1207": "Intervention socioéducative",
    "K1302": "Assistance auprès d'adultes",
    "K1303": "Assistance auprès d'enfants",
    "K1304": "Services domestiques",
    "K2106": "Enseignement des écoles",
    "K2107": "Enseignement général du second degré",
    "K2111": "Formation professionnelle",
    "K2204": "Nettoyage de locaux",
    "K2501": "Gardiennage de locaux",
    "M1203": "Comptabilité",
    "M1602": "Opérations administratives",
    "M1607": "Secrétariat",
    "M1805": "Études et développement informatique",
    "M1810": "Production et exploitation de systèmes d'information",
    "N1103": "Magasinage et préparation de commandes",
    "N4101": "Conduite de transport de marchandises sur longue distance",
    "N4105": "Conduite et livraison par tournées sur courte distance",
}


def job_title(code: str | None, english: bool = False) -> str | None:
    """The job a ROME code names; a code the list lacks is named by its domain."""
    if not code:
        return None
    if code in TITLES:
        return TITLES[code]
    domain = DOMAINS.get(code[:1])
    if domain is None:
        return None
    return f"Job in {domain[1].lower()}" if english else f"Métier du domaine « {domain[0]} »"
