"""Equipment types (BPE TYPEQU codes, OSM tags): their names, and the demo data's rates."""

from __future__ import annotations

#: BPE-like equipment: TYPEQU code → (label, per 1 000 inhabitants, smallest commune that is
#: sure to have it, least expected count in such a commune: a small town has its collège).
#: Rates follow the BPE's national orders of magnitude (≈ 2.8 M points for France); the codes
#: outside the criteria (craftsmen, shops…) are there for a realistic volume and mix. From a
#: third of that smallest size up, a commune may have it by chance (less likely the smaller).
#: Services a bourg offers its neighbours (smallest size 300 and up) follow the commune's
#: catchment (see `_catchment`), craftsmen and leisure its own population.
EQUIPMENT: dict[str, tuple[str, float, int, float]] = {
    # health
    "D265": ("Médecin généraliste", 1.4, 400, 0.8),
    "D307": ("Pharmacie", 0.31, 900, 0.8),
    "D266": ("Chirurgien-dentiste", 0.6, 1000, 0.6),
    "D106": ("Urgences", 0.011, 6000, 1.0),  # sous-préfectures keep their hospital
    "D232": ("Infirmier", 1.6, 300, 0.5),
    "D233": ("Masseur-kinésithérapeute", 1.3, 600, 0.5),
    "D231": ("Sage-femme", 0.13, 2000, 0.0),
    "D235": ("Orthophoniste", 0.35, 1000, 0.0),
    "D237": ("Pédicure-podologue", 0.25, 1000, 0.0),
    "D208": ("Ophtalmologiste", 0.08, 5000, 0.0),
    "D212": ("Radiologue", 0.1, 5000, 0.0),
    "D243": ("Psychologue", 0.8, 1000, 0.0),
    # childhood and education
    "D502": ("Établissement d'accueil du jeune enfant", 0.2, 1000, 0.3),
    "C101": ("École maternelle", 0.22, 1200, 0.8),
    "C104": ("École élémentaire", 0.5, 250, 0.7),
    "C201": ("Collège", 0.1, 1500, 0.8),
    "C301": ("Lycée d'enseignement général", 0.04, 5000, 1.0),
    # shops and services
    "B102": ("Supermarché", 0.45, 1500, 1.0),  # a sous-préfecture of 7 000 has several
    "B202": ("Épicerie", 0.4, 200, 0.0),
    "B203": ("Boulangerie", 0.75, 350, 0.7),
    "B204": ("Boucherie, charcuterie", 0.35, 600, 0.0),
    "B301": ("Librairie, papeterie", 0.15, 2000, 0.0),
    "B302": ("Magasin de vêtements", 1.2, 3000, 0.0),
    "B303": ("Magasin de chaussures", 0.2, 3000, 0.0),
    "B304": ("Magasin d'électroménager", 0.25, 2000, 0.0),
    "B306": ("Magasin de meubles", 0.3, 2000, 0.0),
    "B307": ("Magasin d'articles de sports", 0.15, 3000, 0.0),
    "B310": ("Horlogerie, bijouterie", 0.15, 3000, 0.0),
    "B311": ("Fleuriste", 0.35, 1000, 0.0),
    "B313": ("Magasin d'optique", 0.3, 1500, 0.0),
    "B316": ("Station-service", 0.15, 800, 0.3),
    "A206": ("Bureau de poste", 0.12, 900, 0.8),
    "A203": ("Banque, caisse d'épargne", 0.5, 1500, 0.5),
    "A301": ("Réparation automobile", 0.9, 300, 0.0),
    "A401": ("Maçon", 4.2, 100, 0.0),
    "A402": ("Plâtrier, peintre", 3.0, 100, 0.0),
    "A403": ("Menuisier, charpentier, serrurier", 3.0, 100, 0.0),
    "A404": ("Plombier, couvreur, chauffagiste", 3.7, 100, 0.0),
    "A405": ("Électricien", 3.4, 100, 0.0),
    "A501": ("Coiffure", 1.3, 300, 0.0),
    "A502": ("Vétérinaire", 0.12, 1500, 0.0),
    "A503": ("Agence immobilière", 0.55, 1000, 0.0),
    "A504": ("Restaurant, restauration rapide", 3.0, 150, 0.3),
    "A505": ("Agence de travail temporaire", 0.1, 3000, 0.0),
    "A507": ("Soins de beauté", 0.8, 800, 0.0),
    # mobility
    "E108": ("Gare régionale", 0.05, 5000, 1.0),
    "osm:amenity=charging_station": ("Borne de recharge", 0.45, 500, 0.3),
    # sports, leisure, culture, tourism
    "F101": ("Bassin de natation", 0.06, 4000, 0.5),
    "F102": ("Boulodrome", 0.7, 100, 0.3),
    "F103": ("Tennis", 0.6, 200, 0.3),
    "F111": ("Plateau et terrain de jeux extérieurs", 1.0, 100, 0.3),
    "F113": ("Terrain de grands jeux", 0.7, 100, 0.3),
    "F121": ("Salle multisports", 0.3, 800, 0.3),
    "F201": ("Baignade aménagée", 0.05, 500, 0.0),
    "F203": ("Boucle de randonnée", 0.8, 50, 0.2),
    "F303": ("Cinéma", 0.03, 5000, 0.4),
    "F307": ("Bibliothèque", 0.25, 300, 0.4),
    "F312": ("Exposition et médiation culturelle", 0.08, 2000, 0.2),
    "G102": ("Hôtel", 0.26, 800, 0.2),
    "G103": ("Camping", 0.12, 100, 0.1),
}


#: OSM tags (key=value) as people name them (French, English); the BPE-like names above win.
OSM_TAGS: dict[str, tuple[str, str]] = {
    "amenity=doctors": ("Médecin", "Doctor"),
    "healthcare=doctor": ("Médecin", "Doctor"),
    "amenity=pharmacy": ("Pharmacie", "Pharmacy"),
    "amenity=dentist": ("Chirurgien-dentiste", "Dentist"),
    "amenity=hospital": ("Hôpital", "Hospital"),
    "amenity=school": ("École", "School"),
    "amenity=kindergarten": ("École maternelle", "Nursery school"),
    "amenity=library": ("Bibliothèque", "Library"),
    "amenity=townhall": ("Mairie", "Town hall"),
    "amenity=post_office": ("Bureau de poste", "Post office"),
    "amenity=marketplace": ("Marché", "Market"),
    "amenity=cinema": ("Cinéma", "Cinema"),
    "amenity=theatre": ("Théâtre", "Theatre"),
    "amenity=restaurant": ("Restaurant", "Restaurant"),
    "amenity=cafe": ("Café", "Café"),
    "amenity=bar": ("Bar", "Bar"),
    "amenity=charging_station": ("Borne de recharge", "Charging station"),
    "amenity=bank": ("Banque", "Bank"),
    "amenity=community_centre": ("Salle des fêtes", "Community centre"),
    "leisure=swimming_pool": ("Piscine", "Swimming pool"),
    "leisure=sports_centre": ("Centre sportif", "Sports centre"),
    "leisure=park": ("Parc", "Park"),
    "leisure=playground": ("Aire de jeux", "Playground"),
    "tourism=museum": ("Musée", "Museum"),
    "tourism=information": ("Office de tourisme", "Tourist information"),
    "tourism=camp_site": ("Camping", "Campsite"),
    "tourism=hotel": ("Hôtel", "Hotel"),
    "shop=bakery": ("Boulangerie", "Bakery"),
    "shop=supermarket": ("Supermarché", "Supermarket"),
    "shop=convenience": ("Épicerie", "Convenience store"),
    "railway=station": ("Gare", "Railway station"),
}


def equipment_name(code: str | None, english: bool = False) -> str | None:
    """The name of a BPE TYPEQU code or an OSM tag (with or without the "osm:" prefix), or None
    when the catalogue does not know it (a code is never shown in its place). BPE names are
    INSEE's, in French."""
    if not code:
        return None
    tag = code.removeprefix("osm:")
    if tag in OSM_TAGS:
        return OSM_TAGS[tag][1 if english else 0]
    known = EQUIPMENT.get(code) or EQUIPMENT.get(f"osm:{tag}")
    return known[0] if known else None
