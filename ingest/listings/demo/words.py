"""The demo listings' vocabulary: real ROME jobs, DATAtourisme classes and BPE equipment codes,
French words for titles and descriptions, and fictitious advertisers."""

from __future__ import annotations

#: A line every demo description ends with: nobody should call or write to these advertisers.
FICTITIOUS = (
    "Annonce de démonstration : l'annonceur, l'adresse e-mail et le numéro de téléphone sont "
    "fictifs."
)
#: ARCEP keeps 04 65 71 xx xx for works of fiction (the south-east's geographic numbers): a
#: demo number there can ring nobody, unlike a made-up 04 71 number of the Cantal.
FICTION_PHONE_PREFIX = "04 65 71"

STREETS = (
    "rue de la République",
    "Grand'Rue",
    "place de l'Église",
    "rue du Four",
    "chemin des Écoliers",
    "impasse des Genêts",
    "route de la Gare",
    "rue des Tanneurs",
    "avenue du Général-de-Gaulle",
    "rue du Collège",
    "place du Marché",
    "rue des Jardins",
    "chemin de la Croix",
    "rue du Lavoir",
    "allée des Tilleuls",
    "rue de la Fontaine",
)
HAMLETS = ("Le Bourg", "La Borie", "Le Mas", "Les Estives", "La Chazotte", "Le Bouissou")

# --- real estate ----------------------------------------------------------------------------------

#: property type → (title words, living area range m², land range m², rooms range)
HOMES = {
    "house": (
        (
            "Maison de bourg",
            "Maison en pierre",
            "Maison familiale",
            "Pavillon de plain-pied",
            "Maison avec jardin",
            "Maison de village rénovée",
        ),
        (70, 180),
        (200, 2500),
        (3, 7),
    ),
    "flat": (
        ("Appartement", "Appartement lumineux", "Duplex", "Appartement rénové"),
        (25, 95),
        (0, 0),
        (1, 4),
    ),
    "farm": (
        ("Corps de ferme", "Ferme cantalienne", "Buron à restaurer", "Longère avec grange"),
        (110, 260),
        (3000, 40000),
        (4, 8),
    ),
    "building": (
        ("Immeuble de rapport", "Immeuble de centre-bourg"),
        (180, 420),
        (0, 300),
        (6, 14),
    ),
    "land": (("Terrain à bâtir", "Terrain constructible viabilisé", "Terrain en lotissement"),),
}
#: Sale prices per m² of living area (€, Cantal market), before the commune's own factor.
SALE_PER_M2 = {
    "house": (1300, 2000),
    "flat": (1000, 1600),
    "farm": (700, 1200),
    "building": (700, 1100),
}
LAND_PER_M2 = (12, 35)
RENT_PER_M2 = (7.0, 10.0)  # €/m² a month, charges aside
HOME_FEATURES = (
    "Cuisine équipée ouverte sur le séjour.",
    "Chauffage au bois complété par une pompe à chaleur.",
    "Double vitrage récent et isolation des combles refaite.",
    "Belle vue dégagée sur les monts du Cantal.",
    "Cave voûtée et grenier aménageable.",
    "Garage attenant et atelier.",
    "Toiture en lauzes entretenue.",
    "Commerces, école et médecin à quelques minutes.",
    "Exposition plein sud, jardin clos et arboré.",
    "Parquet ancien et cheminée en pierre.",
    "Fibre optique disponible.",
    "Au calme, en bout d'impasse.",
)
ENERGY_WEIGHTS = {"A": 1, "B": 2, "C": 6, "D": 12, "E": 14, "F": 9, "G": 6}
AGENCIES = (
    ("Immobilier de la Planèze", "planeze-immobilier"),
    ("Margeride Habitat", "margeride-habitat"),
    ("Agence des Volcans", "agence-des-volcans"),
    ("Étude notariale du Haut-Cantal", "etude-haut-cantal"),
)

# --- jobs -----------------------------------------------------------------------------------------

#: ROME code (v4 keeps v3's codes) → (job title, usual contract types, yearly gross salary range)
JOBS = {
    "A1416": ("Agent·e d'élevage polyvalent·e", ("CDI", "SAI"), (22000, 26000)),
    "A1101": ("Conducteur·rice d'engins agricoles", ("CDD", "SAI"), (22000, 25000)),
    "A1203": ("Jardinier·ère espaces verts", ("CDD", "CDI"), (21600, 24000)),
    "D1101": ("Boucher·ère", ("CDI",), (23000, 28000)),
    "D1102": ("Boulanger·ère", ("CDI", "CDD"), (22000, 27000)),
    "D1106": ("Vendeur·se en alimentation", ("CDD", "CDI"), (21600, 23000)),
    "D1505": ("Hôte·sse de caisse", ("CDD", "MIS"), (21600, 22500)),
    "D1507": ("Employé·e de libre-service", ("CDD", "MIS"), (21600, 22500)),
    "F1602": ("Électricien·ne du bâtiment", ("CDI", "MIS"), (23000, 30000)),
    "F1603": ("Plombier·ère chauffagiste", ("CDI", "CDD"), (24000, 31000)),
    "F1703": ("Maçon·ne", ("CDI", "MIS"), (22500, 28000)),
    "G1101": ("Conseiller·ère en séjour", ("SAI", "CDD"), (21600, 23500)),
    "G1203": ("Animateur·rice enfance-jeunesse", ("CDD", "SAI"), (21600, 23000)),
    "G1501": ("Femme ou valet de chambre", ("SAI",), (21600, 22500)),
    "G1602": ("Cuisinier·ère", ("SAI", "CDI"), (22500, 29000)),
    "G1603": ("Employé·e polyvalent·e de restauration", ("SAI", "CDD"), (21600, 22500)),
    "G1703": ("Réceptionniste en hôtellerie", ("SAI", "CDD"), (21600, 24000)),
    "G1803": ("Serveur·se en restauration", ("SAI", "CDD"), (21600, 23500)),
    "I1604": ("Mécanicien·ne automobile", ("CDI",), (23000, 29000)),
    "J1102": ("Médecin généraliste", ("CDI", "LIB"), (70000, 110000)),
    "J1501": ("Aide-soignant·e", ("CDI", "CDD"), (22500, 27000)),
    "J1506": ("Infirmier·ère", ("CDI", "CDD"), (28000, 36000)),
    "K1302": ("Auxiliaire de vie sociale", ("CDI", "CDD"), (21600, 23500)),
    "K1303": ("Assistant·e maternel·le", ("CDI",), (21600, 24000)),
    "K2204": ("Agent·e d'entretien des locaux", ("CDD", "CDI"), (21600, 22500)),
    "M1203": ("Comptable", ("CDI",), (26000, 34000)),
    "M1607": ("Secrétaire de mairie", ("CDD", "CDI"), (22500, 27000)),
    "N1103": ("Préparateur·rice de commandes", ("MIS", "CDD"), (21600, 23500)),
    "N4101": ("Chauffeur·se poids lourd", ("CDI", "MIS"), (25000, 31000)),
    "N4102": ("Chauffeur·se de transport scolaire", ("CDD", "CDI"), (21600, 24000)),
}
#: Who hires for a ROME family (its first letter): fictitious employers, e-mail domain part.
EMPLOYERS = {
    "A": (("GAEC des Hautes Terres", "gaec-hautes-terres"), ("Coopérative laitière", "coop-lait")),
    "D": (("Supérette du Bourg", "superette-du-bourg"), ("Fournil de la Halle", "fournil-halle")),
    "F": (("Bâtiments de la Truyère", "batiments-truyere"), ("Artisans réunis", "artisans")),
    "G": (("Hôtel-restaurant du Lac", "hotel-du-lac"), ("Office de tourisme", "office-tourisme")),
    "I": (("Garage de la Planèze", "garage-planeze"),),
    "J": (("EHPAD Les Gentianes", "ehpad-gentianes"), ("Centre hospitalier", "centre-hospitalier")),
    "K": (("ADMR du canton", "admr-canton"), ("Mairie", "mairie")),
    "M": (("Cabinet comptable des Monts", "cabinet-des-monts"), ("Mairie", "mairie")),
    "N": (("Transports du Haut-Cantal", "transports-haut-cantal"), ("Logistique Auvergne", "log")),
}
JOB_FEATURES = (
    "Poste à pourvoir rapidement, formation assurée à la prise de poste.",
    "Équipe soudée d'une dizaine de personnes.",
    "Logement possible les premiers mois.",
    "Mutuelle d'entreprise et tickets restaurant.",
    "Débutant·e accepté·e, l'envie d'apprendre compte plus que l'expérience.",
    "Permis B indispensable : le poste demande des déplacements dans le canton.",
    "Travail un week-end sur deux, repos compensé.",
    "Possibilité d'évolution vers un poste de responsable.",
)
#: How a description says a contract (the page shows the contract type's own label).
CONTRACT_WORDS = {
    "CDI": "en CDI",
    "CDD": "en CDD",
    "SAI": "pour la saison",
    "MIS": "en mission d'intérim",
    "LIB": "en exercice libéral",
}
EXPERIENCE = ("Débutant accepté", "1 an minimum", "2 ans souhaités", "Expérience exigée")
HOURS = ("35 h par semaine", "Du lundi au vendredi", "Horaires en journée", "Horaires décalés")

# --- businesses to take over ----------------------------------------------------------------------

#: activity → (title words, area range m², price range €, turnover range €, staff range)
BUSINESSES = {
    "Boulangerie-pâtisserie": (
        ("Boulangerie-pâtisserie", "Fournil"),
        (80, 200),
        (60000, 180000),
        (150000, 400000),
        (1, 5),
    ),
    "Bar-restaurant": (
        ("Bar-restaurant avec licence IV", "Café de pays", "Auberge"),
        (90, 250),
        (40000, 160000),
        (90000, 350000),
        (0, 4),
    ),
    "Épicerie multiservice": (
        ("Épicerie multiservice", "Commerce de proximité avec relais poste"),
        (60, 180),
        (20000, 70000),
        (120000, 300000),
        (0, 2),
    ),
    "Hôtel-restaurant": (
        ("Hôtel-restaurant", "Hôtel de charme"),
        (300, 900),
        (150000, 450000),
        (200000, 700000),
        (2, 10),
    ),
    "Boucherie-charcuterie": (
        ("Boucherie-charcuterie", "Boucherie traditionnelle"),
        (70, 160),
        (50000, 150000),
        (200000, 500000),
        (1, 4),
    ),
    "Garage automobile": (
        ("Garage automobile", "Atelier de mécanique"),
        (200, 600),
        (60000, 200000),
        (150000, 500000),
        (1, 5),
    ),
    "Salon de coiffure": (
        ("Salon de coiffure",),
        (40, 90),
        (15000, 60000),
        (50000, 140000),
        (0, 2),
    ),
    "Menuiserie": (
        ("Menuiserie-ébénisterie", "Entreprise de charpente"),
        (250, 800),
        (80000, 250000),
        (200000, 700000),
        (2, 8),
    ),
    "Commerce de détail": (
        ("Local commercial", "Boutique en centre-bourg"),
        (40, 150),
        (0, 0),
        (0, 0),
        (0, 0),
    ),
}
TRANSFER_WEIGHTS = {
    "fonds_de_commerce": 10,
    "droit_au_bail": 3,
    "murs": 2,
    "parts_sociales": 2,
}
REASONS = (
    "Départ à la retraite",
    "Changement de région",
    "Raisons de santé",
    "Nouveau projet professionnel",
    "Raisons familiales",
)
BUSINESS_FEATURES = (
    "Clientèle fidèle d'habitués et de passage l'été.",
    "Matériel entretenu et aux normes.",
    "Logement de fonction au-dessus du commerce.",
    "Accompagnement du cédant pendant trois mois.",
    "Seul commerce de ce type dans un rayon de dix kilomètres.",
    "Terrasse de trente couverts sur la place.",
    "Aides à la reprise possibles auprès de la communauté de communes.",
)

# --- leisure (DATAtourisme classes) ---------------------------------------------------------------

#: DATAtourisme class → (titles, opening hours in OSM syntax or "" for dated events, audience)
LEISURE = {
    "SportsAndLeisurePlace": (
        ("Piscine municipale", "Parcours acrobatique en forêt", "Centre équestre", "Base nautique"),
        "Tu-Su 10:00-19:00",
    ),
    "WalkingTour": (
        ("Sentier des burons", "Boucle des puys", "Randonnée des gorges", "Chemin des estives"),
        "",
    ),
    "CyclingTour": (("Circuit VTT des crêtes", "Balade à vélo le long de la Truyère"), ""),
    "Museum": (("Musée de la vie d'autrefois", "Maison de la gentiane", "Écomusée"), ""),
    "Church": (("Église romane", "Chapelle Notre-Dame"), ""),
    "Castle": (("Château médiéval", "Tour de guet"), ""),
    "NaturalHeritage": (("Cascade", "Tourbière", "Orgues basaltiques", "Lac de barrage"), ""),
    "ParkAndGarden": (("Jardin botanique", "Parc du château"), ""),
    "CulturalEvent": (("Fête du village", "Nuit des étoiles", "Veillée contée"), ""),
    "Festival": (("Festival de musique", "Festival des arts de la rue"), ""),
    "Concert": (("Concert d'orgue", "Concert de musique traditionnelle"), ""),
    "Exhibition": (("Exposition de peinture", "Exposition photographique"), ""),
    "Market": (("Marché de producteurs", "Marché de pays"), ""),
    "SportsEvent": (("Trail des volcans", "Course cycliste", "Concours de pétanque"), ""),
}
#: The classes that happen on dates (an event) rather than at opening hours.
EVENTS = {"CulturalEvent", "Festival", "Concert", "Exhibition", "Market", "SportsEvent"}
OPENING_HOURS = (
    "Mo-Fr 09:00-18:00",
    "Tu-Su 10:00-19:00",
    "Jul-Aug Mo-Su 10:00-19:00",
    "We,Sa 14:00-18:00",
    "Mo-Sa 09:00-12:00,14:00-18:00",
)
AUDIENCES = ("Tout public", "Familles", "Adultes", "Enfants dès 6 ans", "Sportifs confirmés")
LEISURE_PRICES = ("Gratuit", "Adulte 5 €, enfant 3 €", "8 € par personne", "Participation libre")
LEISURE_FEATURES = (
    "Parking gratuit à proximité.",
    "Prévoir de bonnes chaussures et de l'eau.",
    "Accès possible avec une poussette.",
    "Chiens tenus en laisse acceptés.",
    "Buvette et restauration sur place.",
    "Réservation conseillée en été.",
)

# --- places and facilities (real BPE TYPEQU codes) ------------------------------------------------

#: (SCDL theme, type, BPE code, OSM tag, title words)
PLACES = (
    ("Santé", "Maison de santé", "D265", "amenity=doctors", "Maison de santé pluriprofessionnelle"),
    ("Santé", "Pharmacie", "D307", "amenity=pharmacy", "Pharmacie"),
    ("Santé", "Cabinet infirmier", "D232", "healthcare=nurse", "Cabinet infirmier"),
    ("Santé", "Cabinet dentaire", "D266", "amenity=dentist", "Cabinet dentaire"),
    ("Enseignement", "École élémentaire", "C104", "amenity=school", "École élémentaire"),
    ("Enseignement", "École maternelle", "C101", "amenity=kindergarten", "École maternelle"),
    ("Enseignement", "Collège", "C201", "amenity=school", "Collège"),
    ("Petite enfance", "Crèche", "D502", "amenity=childcare", "Micro-crèche"),
    ("Culture", "Médiathèque", "F307", "amenity=library", "Médiathèque"),
    ("Culture", "Cinéma", "F303", "amenity=cinema", "Cinéma"),
    ("Sport", "Salle multisports", "F121", "leisure=sports_centre", "Gymnase"),
    ("Sport", "Tennis", "F103", "leisure=pitch", "Courts de tennis"),
    ("Sport", "Terrain de grands jeux", "F113", "leisure=pitch", "Stade"),
    ("Services publics", "Bureau de poste", "A206", "amenity=post_office", "Bureau de poste"),
    ("Services publics", "Mairie", "", "amenity=townhall", "Mairie"),
    ("Commerces", "Boulangerie", "B203", "shop=bakery", "Boulangerie"),
    ("Commerces", "Supérette", "B202", "shop=convenience", "Épicerie"),
    ("Mobilité", "Borne de recharge", "", "amenity=charging_station", "Borne de recharge"),
    ("Tourisme", "Camping", "G103", "tourism=camp_site", "Camping municipal"),
)
PLACE_FEATURES = (
    "Accessible aux personnes à mobilité réduite.",
    "Parking à proximité immédiate.",
    "Sur rendez-vous en dehors des heures d'ouverture.",
    "Rénové récemment.",
)
